#!/usr/bin/env python3
"""Sends one hand-made MongoDB message and prints what comes back, for tests of how a proxy
answers bad input:  raw_request.py PORT KIND

KIND: short-length (a header claiming 15 bytes), bad-checksum (an OP_MSG ping whose CRC-32C is
wrong), other-db-more-to-come (an insert on `other` with moreToCome set).
Prints `reply_code=`, `reply_errmsg=` for an OP_MSG reply, and `closed=yes|no` (whether the
connection was closed after it)."""
import socket
import struct
import sys

import bson


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def op_msg(request_id, flags, body, checksum=None):
    payload = struct.pack("<I", flags) + b"\x00" + bson.encode(body)
    header_length = 16 + len(payload) + (4 if flags & 1 else 0)
    message = struct.pack("<iiii", header_length, request_id, 0, 2013) + payload
    if flags & 1:
        message += struct.pack("<I", crc32c(message) if checksum is None else checksum)
    return message


def read_reply(sock):
    header = b""
    while len(header) < 16:
        chunk = sock.recv(16 - len(header))
        if not chunk:
            return None
        header += chunk
    length, _, response_to, opcode = struct.unpack("<iiii", header)
    body = b""
    while len(body) < length - 16:
        chunk = sock.recv(length - 16 - len(body))
        if not chunk:
            return None
        body += chunk
    if opcode != 2013:
        return {"opcode": opcode}
    document = bson.decode(body[5:])
    document["responseTo"] = response_to
    return document


def main():
    port, kind = int(sys.argv[1]), sys.argv[2]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if kind == "short-length":
        sock.sendall(struct.pack("<iiii", 15, 4242, 0, 2013))
    elif kind == "bad-checksum":
        sock.sendall(op_msg(4243, 1, {"ping": 1, "$db": "admin"}, checksum=0xDEADBEEF))
    elif kind == "other-db-more-to-come":
        sock.sendall(op_msg(4244, 2, {"insert": "c", "documents": [{"x": 1}], "$db": "other"}))
    else:
        sys.exit(f"unknown kind {kind}")
    reply = read_reply(sock)
    if reply is not None:
        print(f"reply_to={reply.get('responseTo')}")
        print(f"reply_code={reply.get('code')}")
        print(f"reply_errmsg={reply.get('errmsg')}")
    try:
        closed = sock.recv(1) == b""
    except socket.timeout:
        closed = False
    print(f"closed={'yes' if closed else 'no'}")


if __name__ == "__main__":
    main()
