#!/usr/bin/env python3
"""Captures real pymongo <-> MongoDB-wire-server bytes for the WireMongo golden tests.

Usage: capture.py [--server-port N] [--host 127.0.0.1] [--legacy]

--legacy is for an older pymongo (4.10.1 here), whose first handshake is an OP_QUERY:
it writes only legacy.* and handshake-query.*.

Without --server-port it starts Tests/Fixtures/mongo/wire_server.py (with the `python3` on PATH,
which has mongomock) on a free port itself.
For every scenario a loopback relay (../relay.py) listens on a free port, forwards each
accepted connection to the server and records what each side sent; pymongo is pointed at the
relay. The application connection (the one that ran `find`) is split into messages and the
interesting ones are written to the current directory. See README.md for the files.
"""
import argparse, os, re, struct, subprocess, sys, time, zlib

import bson
import pymongo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from relay import Relay  # noqa: E402

OP_NAMES = {1: "OP_REPLY", 2004: "OP_QUERY", 2012: "OP_COMPRESSED", 2013: "OP_MSG"}


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def split(stream):
    """The messages of a recorded direction, each as bytes (asserts it ends on a boundary)."""
    messages, offset = [], 0
    while offset < len(stream):
        length = struct.unpack_from("<i", stream, offset)[0]
        messages.append(bytes(stream[offset:offset + length]))
        offset += length
    assert offset == len(stream), "stream does not end on a message boundary"
    return messages


def describe(message):
    """A one-line description: opcode, flags, first key of the command / reply."""
    length, request_id, response_to, opcode = struct.unpack_from("<iiii", message)
    text = f"{OP_NAMES.get(opcode, opcode)} len={length} id={request_id} to={response_to}"
    body = message[16:]
    if opcode == 2012:
        original, size, cid = struct.unpack_from("<iiB", body)
        inner = zlib.decompress(body[9:]) if cid == 2 else body[9:]
        text += f" compressor={cid} wraps {OP_NAMES.get(original, original)} {size}B:"
        return text + " " + describe(struct.pack("<iiii", 16 + size, request_id, response_to, original) + inner)
    if opcode == 2013:
        flags = struct.unpack_from("<I", body)[0]
        doc = bson.decode(body[5:5 + struct.unpack_from("<i", body, 5)[0]])
        return text + f" flags={flags:#x} first={next(iter(doc))} $db={doc.get('$db')}"
    if opcode == 2004:
        nul = body.index(b"\0", 4)
        query = bson.decode(body[nul + 9:nul + 9 + struct.unpack_from("<i", body, nul + 9)[0]])
        return text + f" ns={body[4:nul].decode()} first={next(iter(query))}"
    if opcode == 1:
        doc = bson.decode(body[20:])
        return text + f" first={next(iter(doc))} maxMessageSizeBytes={doc.get('maxMessageSizeBytes')}"
    return text


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as file:
        file.write(data)
    print(f"  {name}: {len(data)} bytes")


def run(args, compressors=None):
    """Runs insert + find through a relay; returns (client messages, server messages) of the
    application connection, after printing every connection's messages."""
    relay = Relay(args.host, args.server_port)
    uri = f"mongodb://127.0.0.1:{relay.port}/?directConnection=true&appname=wiremongo-capture"
    if compressors:
        uri += f"&compressors={compressors}"
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    items = client.appdb.items
    items.delete_many({})
    items.insert_one({"_id": 1, "name": "widget", "qty": 5})
    found = list(items.find({"qty": {"$gt": 1}}))
    assert found == [{"_id": 1, "name": "widget", "qty": 5}], found
    client.close()
    time.sleep(0.5)
    application = None
    for index, (client_bytes, server_bytes) in enumerate(relay.finish()):
        sent, received = split(client_bytes), split(server_bytes)
        print(f"connection {index} ({'compressors=' + compressors if compressors else 'no compression'}):")
        for message in sent:
            print("  ->", describe(message))
        for message in received:
            print("  <-", describe(message))
        if any("first=find" in describe(message) for message in sent):
            application = (client_bytes, server_bytes, sent, received)
    assert application, "no application connection recorded"
    return application


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-port", type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--legacy", action="store_true", help="capture the OP_QUERY handshake only")
    args = parser.parse_args()
    server = None
    if args.server_port is None:
        script = os.path.join(HERE, "..", "..", "mongo", "wire_server.py")
        server = subprocess.Popen(["python3", script, "--port", "0"], stdout=subprocess.PIPE, text=True)
        line = server.stdout.readline()
        args.server_port = int(re.search(r":(\d+) ", line).group(1))
        print(line.strip())
    print(f"pymongo {pymongo.version}, python {sys.version.split()[0]}")
    try:
        if args.legacy:
            legacy_client, legacy_server, sent, received = run(args)
            assert struct.unpack_from("<i", sent[0], 12)[0] == 2004, "this pymongo handshakes with OP_MSG"
            write("legacy.client.bin", legacy_client)
            write("legacy.server.bin", legacy_server)
            write("handshake-query.client.bin", sent[0])
            write("handshake-query.server.bin", received[0])
            return
        plain_client, plain_server, sent, received = run(args)
        write("plain.client.bin", plain_client)
        write("plain.server.bin", plain_server)
        # Messages 0/0: the handshake; the find is the OP_MSG whose body starts with `find`.
        write("handshake-msg.client.bin", sent[0])
        write("handshake-msg.server.bin", received[0])
        find = next(i for i, m in enumerate(sent) if m[16 + 5 + 4 + 1:].startswith(b"find\0"))
        write("find.client.bin", sent[find])
        write("find.server.bin", received[find])
        # pymongo never sets checksumPresent: flag bit 0 and a CRC-32C over header + body.
        length, request_id, response_to, opcode = struct.unpack_from("<iiii", sent[find])
        body = struct.pack("<I", struct.unpack_from("<I", sent[find], 16)[0] | 1) + sent[find][20:]
        header = struct.pack("<iiii", length + 4, request_id, response_to, opcode)
        write("find-checksum.client.bin", header + body + struct.pack("<I", crc32c(header + body)))

        zlib_client, zlib_server, sent, received = run(args, "zlib")
        write("zlib.client.bin", zlib_client)
        write("zlib.server.bin", zlib_server)
        find = next(i for i, m in enumerate(sent)
                    if struct.unpack_from("<i", m, 12)[0] == 2012 and "first=find" in describe(m))
        write("zlib-find.client.bin", sent[find])
        write("zlib-find.server.bin", received[find])
    finally:
        if server:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
