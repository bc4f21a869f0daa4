#!/usr/bin/env python3
"""Records the PROXY protocol headers a real HAProxy sends in front of a connection.

Usage: capture.py [HAPROXY]     (run from this directory; HAPROXY defaults to `haproxy`)

For each capture below, a loopback listener stands in for the server, HAProxy is started in TCP
mode in the foreground (`haproxy -db -f CONFIG`, config written to a temporary directory) with
one frontend and one server line pointing at the listener, and:

- relayed captures: a client connects to the frontend from a fixed source port, sends the TLS
  ClientHello of ../tls/openssl-sni-alpn.bin and waits; the listener records every byte until
  the whole ClientHello has arrived after the header, so the file is HAProxy's header followed
  by the untouched ClientHello.
- health-check captures: no client; the server line has `check`, and the listener records the
  first connection HAProxy's own health check makes (header only: the check sends nothing else).

Prints, for each file, the addresses the test expects to find in it.
"""
import os, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
HELLO = open(os.path.join(HERE, "..", "tls", "openssl-sni-alpn.bin"), "rb").read()
CLIENT_PORT = {"127.0.0.1": 45555, "::1": 45556}

CAPTURES = [
    # file, family of the frontend and client, server options, health check
    ("haproxy-v1-tcp4.bin", "127.0.0.1", "send-proxy", False),
    ("haproxy-v2-tcp4.bin", "127.0.0.1", "send-proxy-v2", False),
    ("haproxy-v1-tcp6.bin", "::1", "send-proxy", False),
    ("haproxy-v2-tcp6.bin", "::1", "send-proxy-v2", False),
    ("haproxy-v2-tlv-crc32c-unique-id.bin", "127.0.0.1", "send-proxy-v2 proxy-v2-options crc32c,unique-id", False),
    ("haproxy-v1-health-check.bin", "127.0.0.1", "send-proxy check inter 200ms", True),
    ("haproxy-v2-health-check.bin", "127.0.0.1", "send-proxy-v2 check inter 200ms", True),
]


def free_port(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def bracket(host):
    return "[%s]" % host if ":" in host else host


def config(frontend_host, frontend_port, server_port, options):
    return "\n".join([
        "global",
        "    maxconn 16",
        "defaults",
        "    mode tcp",
        "    timeout connect 2s",
        "    timeout client 10s",
        "    timeout server 10s",
        "frontend fe",
        "    bind %s:%d" % (bracket(frontend_host), frontend_port),
        "    unique-id-format pp-capture-%cp",
        "    default_backend be",
        "backend be",
        "    server listener 127.0.0.1:%d %s" % (server_port, options),
        "",
    ])


def record(listener, health_check):
    conn, peer = listener.accept()
    conn.settimeout(5)
    data = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break  # a health check closes with a reset once connected
        if not chunk:
            break
        data += chunk
        if not health_check and data.endswith(HELLO):
            break
    conn.close()
    return data, peer


def capture(haproxy, name, host, options, health_check):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    server_port = listener.getsockname()[1]
    frontend_port = free_port(host)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "haproxy.cfg")
        with open(path, "w") as file:
            file.write(config(host, frontend_port, server_port, options))
        process = subprocess.Popen([haproxy, "-db", "-f", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            client = None
            if not health_check:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                deadline = time.time() + 5
                while True:
                    client = socket.socket(family)
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    client.bind((host, CLIENT_PORT[host]))
                    try:
                        client.connect((host, frontend_port))
                        break
                    except ConnectionRefusedError:
                        client.close()
                        if time.time() > deadline:
                            raise
                        time.sleep(0.05)
                client.sendall(HELLO)
            data, haproxy_peer = record(listener, health_check)
            if client:
                client.close()
        finally:
            process.terminate()
            output = process.communicate(timeout=5)[0].decode(errors="replace")
    with open(os.path.join(HERE, name), "wb") as file:
        file.write(data)
    header = len(data) - (0 if health_check else len(HELLO))
    print("%s: %d bytes (%d header + %d after it); client %s:%s -> frontend %s:%d; HAProxy's own connection came from %s:%d"
          % (name, len(data), header, len(data) - header, bracket(host), CLIENT_PORT[host] if not health_check else "-",
             bracket(host), frontend_port, haproxy_peer[0], haproxy_peer[1]))
    if output.strip():
        print("    haproxy: " + output.strip().replace("\n", "\n    haproxy: "))


def main():
    haproxy = sys.argv[1] if len(sys.argv) > 1 else "haproxy"
    print(subprocess.run([haproxy, "-v"], capture_output=True, text=True).stdout.splitlines()[0])
    for name, host, options, health_check in CAPTURES:
        capture(haproxy, name, host, options, health_check)


if __name__ == "__main__":
    main()
