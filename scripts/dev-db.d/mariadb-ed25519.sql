-- MariaDB only: a user of the ed25519 plugin, so logins go through an AuthSwitchRequest.
INSTALL SONAME 'auth_ed25519';
CREATE USER 'eduser'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pw');
GRANT ALL ON appdb.* TO 'eduser'@'%';
