#!/usr/bin/env python3
"""Captures real psql <-> PostgreSQL bytes for the WirePostgres golden tests.

Usage: capture.py [--server-port 25432] [--host 127.0.0.1]

For every scenario a loopback relay listens on a free port, forwards each accepted connection
to the server and records what each side sent. psql is pointed at the relay. Files are written
to the current directory as <scenario>[-<n>].client.bin / .server.bin (n = connection number,
from 2 on). See README.md for what each scenario runs.
"""
import os, signal, socket, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from relay import Relay  # noqa: E402


def conninfo(port, user, dbname="appdb", sslmode="disable"):
    return f"host=127.0.0.1 port={port} user={user} dbname={dbname} sslmode={sslmode} gssencmode=disable"


def run(args, name, user, password=None, dbname="appdb", sslmode="disable", sql="select 1",
        interrupt_after=None, trim=None):
    relay = Relay(args.host, args.server_port)
    env = dict(os.environ, PGCLIENTENCODING="UTF8")
    for key in ("PGPASSWORD", "PGAPPNAME", "PGOPTIONS"):
        env.pop(key, None)
    if password is not None:
        env["PGPASSWORD"] = password
    command = ["psql", "-X", "-w", conninfo(relay.port, user, dbname, sslmode), "-c", sql]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if interrupt_after is not None:
        time.sleep(interrupt_after)
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    print(f"{name}: psql exit {process.returncode}: {(out + err).decode().strip()}")
    time.sleep(0.3)
    for index, (client, server) in enumerate(relay.finish(), start=1):
        suffix = "" if index == 1 else f"-{index}"
        if trim is not None:
            client, server = client[:trim[0]], server[:trim[1]]
        for direction, data in (("client", client), ("server", server)):
            if not data:
                continue
            path = f"{name}{suffix}.{direction}.bin"
            with open(path, "wb") as file:
                file.write(bytes(data))
            print(f"  {path}: {len(data)} bytes")


def main():
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-port", type=int, default=25432)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    # Only the SSLRequest and the one-byte answer: what follows is TLS.
    run(args, "ssl-prefer", "trustuser", sslmode="prefer", trim=(8, 1))
    run(args, "trustuser", "trustuser")
    run(args, "alice-scram", "alice", password="alice-pw")
    run(args, "alice-wrong-password", "alice", password="not-alices-password")
    run(args, "md5user", "md5user", password="md5-pw")
    run(args, "no-database", "trustuser", dbname="no_such_database")
    run(args, "cancel", "trustuser", sql="select pg_sleep(5)", interrupt_after=1.0)


if __name__ == "__main__":
    main()
