-- Accounts of the development MariaDB and MySQL (scripts/dev-db and docker-compose.yml).
CREATE DATABASE IF NOT EXISTS appdb;
CREATE USER 'alice'@'%' IDENTIFIED BY 'alice-pw';
CREATE USER 'bob'@'%' IDENTIFIED BY 'bob-pw';
CREATE USER 'tlsuser'@'%' IDENTIFIED BY 'tls-pw' REQUIRE SSL;
GRANT ALL ON appdb.* TO 'alice'@'%', 'bob'@'%', 'tlsuser'@'%';
