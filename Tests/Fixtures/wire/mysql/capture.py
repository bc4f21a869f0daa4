#!/usr/bin/env python3
"""Captures real mariadb client <-> MariaDB server bytes for the WireMySQL golden tests.

Usage: capture.py [--server-port 33307] [--host 127.0.0.1]

For every scenario a loopback relay listens on a free port, forwards each accepted connection
to the server and records what each side sent. The mariadb client is pointed at the relay.
Files are written to the current directory as <scenario>.client.bin / .server.bin. See
README.md for what each scenario runs.
"""
import os, socket, subprocess, threading, time


class Relay:
    def __init__(self, host, server_port):
        self.host, self.server_port = host, server_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.connections = []  # [client_bytes, server_bytes] per connection, in accept order
        self.threads = []
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection((self.host, self.server_port))
            record = [bytearray(), bytearray()]
            self.connections.append(record)
            for source, sink, buf in ((client, server, record[0]), (server, client, record[1])):
                thread = threading.Thread(target=self.pump, args=(source, sink, buf), daemon=True)
                thread.start()
                self.threads.append(thread)

    @staticmethod
    def pump(source, sink, buf):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                buf.extend(data)
                sink.sendall(data)
        except OSError:
            pass
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def finish(self):
        for thread in self.threads:
            thread.join(timeout=5)
        self.listener.close()
        return self.connections


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
    parser.add_argument("--server-port", type=int, default=33307)
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
