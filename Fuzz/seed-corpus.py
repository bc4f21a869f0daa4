#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/Corpus/<fuzzer>/ from the golden captures and fixture
certificates in Tests/Fixtures. Run from anywhere: python3 Fuzz/seed-corpus.py"""
import glob
import os
import struct
import subprocess

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
fixtures = os.path.join(root, "Tests", "Fixtures")
corpus = os.path.join(root, "Fuzz", "Corpus")


def write(fuzzer, name, data):
    directory = os.path.join(corpus, fuzzer)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def copy_captures(fuzzer, pattern):
    for path in sorted(glob.glob(os.path.join(fixtures, pattern))):
        write(fuzzer, os.path.basename(path), read(path))


def mysql_frames(data):
    frames, i = [], 0
    while i + 4 <= len(data):
        length = data[i] | data[i + 1] << 8 | data[i + 2] << 16
        frames.append(data[i:i + 4 + length])
        i += 4 + length
    return frames


def session_chunks(direction, frame):
    """The MySQL fuzzer's session input: [bit 7 = from the client | length <= 127][bytes]."""
    out = b""
    for i in range(0, len(frame), 127):
        piece = frame[i:i + 127]
        out += bytes([direction | len(piece)]) + piece
    return out


copy_captures("FuzzPostgres", "wire/postgres/*.bin")
copy_captures("FuzzMongo", "wire/mongo/*.bin")
copy_captures("FuzzProxyProtocol", "wire/proxy-protocol/*.bin")
copy_captures("FuzzClientHello", "wire/tls/*.bin")
copy_captures("FuzzMySQL", "wire/mysql/*.bin")

# MySQL sessions: the captured conversations replayed packet by packet, server first, under
# each TLS mode (low nibble: DatabaseTLS.Mode index) with and without a certificate (0x10).
for client_path in sorted(glob.glob(os.path.join(fixtures, "wire/mysql/*.client.bin"))):
    name = os.path.basename(client_path)[: -len(".client.bin")]
    server = mysql_frames(read(client_path.replace(".client.bin", ".server.bin")))
    client = mysql_frames(read(client_path))
    for settings in (0x00, 0x01, 0x10, 0x13):
        conversation = bytes([settings])
        for i in range(max(len(server), len(client))):
            if i < len(server):
                conversation += session_chunks(0x00, server[i])
            if i < len(client):
                conversation += session_chunks(0x80, client[i])
        write("FuzzMySQL", "session-%s-%02x.bin" % (name, settings), conversation)

# Identity: every fixture certificate as DER, one as PEM.
for path in sorted(glob.glob(os.path.join(fixtures, "certs/*.pem"))):
    if path.endswith("-key.pem"):
        continue
    der = subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"], capture_output=True, check=True).stdout
    write("FuzzIdentity", os.path.basename(path)[:-4] + ".der", der)
write("FuzzIdentity", "user-utf8.pem", read(os.path.join(fixtures, "certs/user-utf8.pem")))

# Ping framing: frames, pings, a frame cut short.
def frame(payload):
    return struct.pack(">I", len(payload)) + payload

write("FuzzPingFraming", "frames.bin", frame(b"hello") + struct.pack(">I", 0) + frame(b"x" * 300))
write("FuzzPingFraming", "pings.bin", struct.pack(">I", 0) * 3 + frame(b"after pings"))
write("FuzzPingFraming", "partial.bin", frame(b"complete") + struct.pack(">I", 1000) + b"only part")

# Router configuration: the documented sample with fixture certificates, and a fuller one.
base = """version: v2
proxy_service:
  web_listen_addr: 127.0.0.1:3080
  public_addr: [proxy.localhost:3080]
  https_keypairs:
    - { cert_file: user-utf8.pem, key_file: user-key.pem }
  client_ca_file: ca.pem
  ping_interval: 30s
  handshake_timeout: 15s
databases:
  - { name: pg1, protocol: postgres, uri: 127.0.0.1:5432 }
routes:
  - { alpn: [teleport-proxy-ssh], forward: 127.0.0.1:3023 }
  - { sni_prefix: kube-teleport-proxy-alpn., forward_tls: 127.0.0.1:3026 }
  - { alpn_prefix: "teleport-auth@", forward_tls: 127.0.0.1:3025 }
  - { alpn: [http/1.1, h2], forward: 127.0.0.1:8080, client_cert: optional }
"""
write("FuzzRouterConfig", "sample.yaml", base.encode())
full = """version: v2
proxy_service:
  web_listen_addr: "[::1]:3080"
  postgres_listen_addr: 127.0.0.1:5433
  https_keypairs:
    - cert_file: user-printable.pem
      key_file: user-key.pem
  client_ca_file: ca.pem
  ping_interval: 500ms
  ping_framing: false
  connect_timeout: 2m
  login_timeout: 10s
  proxy_protocol: { trusted_cidrs: [10.0.0.0/8, "::1/128"], header: required }
databases:
  - name: maria
    protocol: mysql
    uri: localhost:3306
    tls: { mode: verify-full, ca_file: ca.pem, server_name: db.example }
  - { name: mongo, protocol: mongodb, uri: 127.0.0.1:27017, tls: { mode: require } }
audit: { file: "-", statements: true, queue: 100 }
"""
write("FuzzRouterConfig", "full.yaml", full.encode())
write("FuzzRouterConfig", "minimal.yaml", b"proxy_service:\n  web_listen_addr: 127.0.0.1:1\n  https_keypairs: [{cert_file: ca.pem, key_file: ca-key.pem}]\n  client_ca_file: ca.pem\n")
