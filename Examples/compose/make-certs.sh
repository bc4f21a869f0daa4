#!/bin/sh
# Dev certificates for the compose router, made once into /certs (a volume): the CAs, the
# router's certificate for localhost, and one user certificate per compose database for alice.
set -eu
[ -f /certs/alice-pg1.pem ] && exit 0
dbproxy certs init --out /certs --dns localhost --dns router --ip 127.0.0.1
for db in pg1:postgres maria1:mysql mysql1:mysql mongo1:mongodb; do
    name=${db%%:*}
    dbproxy certs issue --ca-dir /certs --user alice --db-service "$name" --db-protocol "${db#*:}" \
        --db-user alice --db-name appdb --ttl 720h --out "/certs/alice-$name"
done
chmod 0644 /certs/*.pem
chmod 0600 /certs/*-key.pem
# The router runs as the image's dbproxy user (uid 10001).
chown -R 10001:10001 /certs
