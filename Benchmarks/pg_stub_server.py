#!/usr/bin/env python3
"""A PostgreSQL server that only logs people in: the backend of the idle-connection row.

The dev PostgreSQL allows 300 connections (and a real backend per connection would cost the
machine gigabytes), so row 7 of scripts/bench holds its 1,000 idle connections against this
stub. It speaks just enough of the protocol for a client to finish the startup:

  SSLRequest / GSSENCRequest -> 'N'
  StartupMessage            -> AuthenticationOk, ParameterStatus x3, BackendKeyData, ReadyForQuery
  Query                     -> EmptyQueryResponse, ReadyForQuery
  Terminate or EOF          -> close

Usage: pg_stub_server.py --port N [--host 127.0.0.1]   (prints "listening HOST:PORT" when ready)
"""
import argparse
import asyncio
import signal
import struct


def message(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + struct.pack("!I", len(payload) + 4) + payload


def parameter(name: str, value: str) -> bytes:
    return message(b"S", name.encode() + b"\0" + value.encode() + b"\0")


LOGIN_REPLY = (
    message(b"R", struct.pack("!I", 0))
    + parameter("server_version", "15.0 (dbproxy bench stub)")
    + parameter("client_encoding", "UTF8")
    + parameter("integer_datetimes", "on")
    + message(b"K", struct.pack("!II", 4242, 4242))
    + message(b"Z", b"I")
)
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:  # startup phase: untyped packets
            length = struct.unpack("!I", await reader.readexactly(4))[0]
            if not 8 <= length <= 10000:
                return
            body = await reader.readexactly(length - 4)
            code = struct.unpack("!I", body[:4])[0]
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                writer.write(b"N")
                continue
            if code == CANCEL_REQUEST:
                return
            writer.write(LOGIN_REPLY)
            await writer.drain()
            break
        while True:  # typed messages
            header = await reader.readexactly(5)
            kind, length = header[:1], struct.unpack("!I", header[1:])[0]
            await reader.readexactly(length - 4)
            if kind == b"X":
                return
            if kind == b"Q":
                writer.write(message(b"I") + message(b"Z", b"I"))
                await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = await asyncio.start_server(serve, args.host, args.port, backlog=4096)
    print(f"listening {args.host}:{args.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
