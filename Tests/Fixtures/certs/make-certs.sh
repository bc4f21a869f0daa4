#!/usr/bin/env bash
# Regenerates the certificate fixtures of ProxyCoreTests with the openssl CLI (tested with
# OpenSSL 3.0). Everything here is throwaway test material: the CA and its key exist only for
# these fixtures. Run from anywhere:   bash Tests/Fixtures/certs/make-certs.sh
# The tests pin the validity dates below, so keep them fixed when regenerating.
set -euo pipefail

out="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

VALID_START=20250101000000Z
VALID_END=20491231235959Z
EXPIRED_START=20200101000000Z
EXPIRED_END=20200201000000Z

# -subj only takes attribute names, so [teleport_oids] names the 1.3.9999 OIDs.
# One openssl config for both `req` (string_mask chosen per run through $MASK) and `ca`.
cat >"$work/openssl.cnf" <<CNF
oid_section = teleport_oids
[ teleport_oids ]
dbService = 1.3.9999.2.1
dbProtocol = 1.3.9999.2.2
dbUser = 1.3.9999.2.3
dbName = 1.3.9999.2.4
dbAllowedNames = 1.3.9999.2.5
dbAllowedUsers = 1.3.9999.2.6
dbRoles = 1.3.9999.2.19
clusterName = 1.3.9999.1.7
futureRoute = 1.3.9999.2.99
futureOther = 1.3.9999.3.1
futureBMP = 1.3.9999.2.98
[ req ]
distinguished_name = req_dn
string_mask = \${ENV::MASK}
prompt = no
[ req_dn ]
CN = unused
[ ca ]
default_ca = fixture_ca
[ fixture_ca ]
dir = $work
database = $work/index.txt
serial = $work/serial
new_certs_dir = $work
certificate = $out/ca.pem
private_key = $out/ca-key.pem
default_md = sha256
policy = policy_anything
unique_subject = no
copy_extensions = none
x509_extensions = user_ext
preserve = yes
[ policy_anything ]
commonName = optional
[ user_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
export OPENSSL_CONF="$work/openssl.cnf"
export MASK=utf8only
: >"$work/index.txt"
echo 1000 >"$work/serial"

# CA: self-signed, fixed dates (issued by `ca -selfsign` so the dates can be set).
openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca-key.sec1"
openssl pkcs8 -topk8 -nocrypt -in "$work/ca-key.sec1" -out "$out/ca-key.pem"
openssl req -new -key "$out/ca-key.pem" -subj "/O=LocalDBProxy fixtures/CN=LocalDBProxy fixture CA" -out "$work/ca.csr"
openssl ca -batch -notext -selfsign -keyfile "$out/ca-key.pem" -in "$work/ca.csr" -out "$out/ca.pem" \
    -extensions ca_ext -startdate "$VALID_START" -enddate "$VALID_END" -preserveDN 2>/dev/null

# One key for every user certificate.
openssl ecparam -name prime256v1 -genkey -noout -out "$work/user-key.sec1"
openssl pkcs8 -topk8 -nocrypt -in "$work/user-key.sec1" -out "$out/user-key.pem"

# issue NAME MASK START END SUBJECT [extra req args...]
issue() {
    local name="$1" mask="$2" start="$3" end="$4" subject="$5"
    shift 5
    MASK="$mask" openssl req -new -utf8 -key "$out/user-key.pem" -subj "$subject" "$@" -out "$work/$name.csr"
    openssl ca -batch -notext -in "$work/$name.csr" -out "$out/$name.pem" \
        -startdate "$start" -enddate "$end" -preserveDN 2>/dev/null
}

ROUTE="/dbService=pg-main/dbProtocol=postgres/dbUser=alice/dbName=orders"
ALLOWED="/dbAllowedNames=orders/dbAllowedNames=analytics/dbAllowedUsers=alice/dbAllowedUsers=reporting"
ROLES="/dbRoles=reader/dbRoles=writer/clusterName=example.teleport.sh"
FULL="/CN=alice/O=dev/O=admin/OU=usage:db$ROUTE$ALLOWED$ROLES"

# Every value UTF8String.
issue user-utf8 utf8only "$VALID_START" "$VALID_END" "$FULL"
# Every value PrintableString (mask "default" picks PrintableString when the characters allow).
issue user-printable default "$VALID_START" "$VALID_END" "$FULL"
# Both O values in one multi-valued RDN, as Go's pkix.Name writes them.
issue user-multivalue utf8only "$VALID_START" "$VALID_END" \
    "/CN=alice/O=dev+O=admin/OU=usage:db$ROUTE" -multivalue-rdn
# Non-ASCII user and database names, UTF8String.
issue user-nonascii utf8only "$VALID_START" "$VALID_END" \
    "/CN=jürgen.müller/O=dev/OU=usage:db/dbService=pg-main/dbProtocol=postgres/dbUser=jürgen/dbName=bestellungen-ü€"
# Unknown 1.3.9999 attributes, one of them a BMPString: all must be ignored.
issue user-unknown-oid default "$VALID_START" "$VALID_END" \
    "/CN=alice/O=dev/OU=usage:db$ROUTE/futureRoute=future/futureOther=other/futureBMP=bmp€"
# No RouteToDatabase attributes at all.
issue user-no-route utf8only "$VALID_START" "$VALID_END" "/CN=bob/O=dev/OU=usage:db"
# Same identity as user-utf8, expired in 2020.
issue user-expired utf8only "$EXPIRED_START" "$EXPIRED_END" "$FULL"
# Service name (1.3.9999.2.1) as a BMPString ("default" mask, a character outside Latin-1).
issue user-malformed-bmp default "$VALID_START" "$VALID_END" \
    "/CN=alice/O=dev/OU=usage:db/dbService=pg€/dbProtocol=postgres"
# Database name (1.3.9999.2.4) as a T61String ("default" mask, a Latin-1 character).
issue user-malformed-t61 default "$VALID_START" "$VALID_END" \
    "/CN=alice/O=dev/OU=usage:db/dbService=pg-main/dbProtocol=postgres/dbName=café"
# No common name.
issue user-no-cn utf8only "$VALID_START" "$VALID_END" "/O=dev/OU=usage:db$ROUTE"

for f in "$out"/*.pem; do
    case "$f" in *-key.pem) continue ;; esac
    printf '%s: ' "$(basename "$f")"
    openssl x509 -in "$f" -noout -dates | tr '\n' ' '
    echo
done
