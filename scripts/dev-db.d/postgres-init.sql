-- Accounts of the development PostgreSQL (scripts/dev-db and docker-compose.yml).
SET password_encryption = 'scram-sha-256';
CREATE ROLE alice LOGIN PASSWORD 'alice-pw';
CREATE ROLE bob LOGIN PASSWORD 'bob-pw';
CREATE ROLE tlsuser LOGIN PASSWORD 'tls-pw';
CREATE ROLE trustuser LOGIN;
CREATE ROLE clearuser LOGIN PASSWORD 'clear-pw';
SET password_encryption = 'md5';
CREATE ROLE md5user LOGIN PASSWORD 'md5-pw';
CREATE DATABASE appdb OWNER alice;
\connect appdb
GRANT ALL ON SCHEMA public TO PUBLIC;
