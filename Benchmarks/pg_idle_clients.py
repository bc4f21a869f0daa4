#!/usr/bin/env python3
"""Open N PostgreSQL connections, finish the startup on each, and hold them idle.

No driver: a raw StartupMessage (protocol 3.0, user and database from the options, no
password: the account must use trust) and a read up to ReadyForQuery. At most --parallel
logins run at once. Prints "ready N SECONDS" once every connection is idle, then holds them
until standard input closes (or SIGTERM), sends Terminate on each and exits.
Exit status 1 with a line on standard error when a connection fails.

Usage: pg_idle_clients.py --port P --count N [--host 127.0.0.1] [--user trustuser]
                          [--database benchdb] [--parallel 16]
"""
import argparse
import asyncio
import signal
import struct
import sys
import time


def startup_message(user: str, database: str) -> bytes:
    body = struct.pack("!I", 196608)
    for key, value in (("user", user), ("database", database), ("application_name", "dbproxy-bench-idle")):
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


async def login(args, gate: asyncio.Semaphore):
    async with gate:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(args.host, args.port), 30)
        writer.write(startup_message(args.user, args.database))
        await writer.drain()
        while True:
            header = await asyncio.wait_for(reader.readexactly(5), 30)
            kind, length = header[:1], struct.unpack("!I", header[1:])[0]
            body = await reader.readexactly(length - 4)
            if kind == b"E":
                fields = dict((f[:1], f[1:]) for f in body.split(b"\0") if f)
                raise RuntimeError("server refused the login: " + fields.get(b"M", body).decode(errors="replace"))
            if kind == b"Z":
                return reader, writer


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--user", default="trustuser")
    parser.add_argument("--database", default="benchdb")
    parser.add_argument("--parallel", type=int, default=16)
    args = parser.parse_args()
    gate = asyncio.Semaphore(args.parallel)
    started = time.monotonic()
    results = await asyncio.gather(*(login(args, gate) for _ in range(args.count)), return_exceptions=True)
    connections = [r for r in results if not isinstance(r, BaseException)]
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        print(f"{len(failures)} of {args.count} connections failed; first: {failures[0]!r}", file=sys.stderr, flush=True)
        for _, writer in connections:
            writer.close()
        return 1
    print(f"ready {len(connections)} {time.monotonic() - started:.3f}", flush=True)

    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or done.set())
    await done.wait()
    for _, writer in connections:
        try:
            writer.write(b"X\0\0\0\4")
            writer.close()
        except Exception:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
