#!/usr/bin/env python3
"""Captures real mariadb client <-> MariaDB server bytes for the WireMySQL golden tests.

Usage: capture.py [--server-port 23307] [--host 127.0.0.1]

For every scenario a loopback relay listens on a free port, forwards each accepted connection
to the server and records what each side sent. The mariadb client is pointed at the relay.
Files are written to the current directory as <scenario>.client.bin / .server.bin. See
README.md for what each scenario runs.
"""
import os, socket, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from relay import Relay  # noqa: E402


def first_frames(data, count):
    """The first `count` MySQL frames of `data` (3-byte LE length, sequence id, payload)."""
    offset = 0
    for _ in range(count):
        if offset + 4 > len(data):
            break
        offset += 4 + int.from_bytes(data[offset:offset + 3], "little")
    return bytes(data[:offset])


def run(args, name, user, password, database="appdb", ssl=False, frames=None):
    relay = Relay(args.host, args.server_port)
    command = ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{relay.port}", f"-u{user}",
               f"-p{password}"]
    command += ["--ssl"] if ssl else ["--skip-ssl"]
    if database is not None:
        command.append(database)
    command += ["-e", "select 1"]
    process = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    print(f"{name}: {' '.join(command[:1] + command[2:])}: exit {process.returncode}: "
          f"{process.stdout.decode().strip()}")
    time.sleep(0.3)
    (client, server), *_ = relay.finish()
    if frames is not None:
        client, server = first_frames(client, frames[0]), first_frames(server, frames[1])
    for direction, data in (("client", client), ("server", server)):
        if not data:
            continue
        path = f"{name}.{direction}.bin"
        with open(path, "wb") as file:
            file.write(bytes(data))
        print(f"  {path}: {len(data)} bytes")


def main():
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-port", type=int, default=23307)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    run(args, "alice", "alice", "alice-pw")
    run(args, "alice-wrong-password", "alice", "not-alices-password")
    run(args, "alice-no-database", "alice", "alice-pw", database="no_such_database")
    # Only the greeting and the 32-byte SSLRequest: what follows is TLS.
    run(args, "tlsuser-ssl", "tlsuser", "tls-pw", ssl=True, frames=(1, 1))
    run(args, "tlsuser-plain", "tlsuser", "tls-pw")


if __name__ == "__main__":
    main()
