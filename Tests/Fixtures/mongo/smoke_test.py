#!/usr/bin/env python3
"""Smoke test for wire_server.py with pymongo (and a few raw-socket checks).

    python3 smoke_test.py                      # starts its own server (auth on), stops it
    python3 smoke_test.py --port N [--user alice --password alice-pw]   # an already running one

Exits non-zero on the first failure.
"""
import argparse
import hashlib
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import bson
import pymongo
from pymongo.errors import OperationFailure

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from wire_server import crc32c  # noqa: E402  (the checksum test needs the same function)

STEPS = []


def step(name):
    def wrap(fn):
        STEPS.append((name, fn))
        return fn
    return wrap


def check(condition, message):
    if not condition:
        raise AssertionError(message)


# ------------------------------------------------------------------ raw socket helpers
def raw_connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def recv_message(sock):
    header = recv_exact(sock, 16)
    length, request_id, response_to, opcode = struct.unpack("<iiii", header)
    return opcode, response_to, recv_exact(sock, length - 16)


def op_msg(request_id, doc, flags=0, checksum=False):
    payload = struct.pack("<IB", flags | (1 if checksum else 0), 0) + bson.encode(doc)
    length = 16 + len(payload) + (4 if checksum else 0)
    message = struct.pack("<iiii", length, request_id, 0, 2013) + payload
    return message + struct.pack("<I", crc32c(message)) if checksum else message


def msg_body(payload):
    check(payload[4] == 0, "reply section is not kind 0")
    return bson.decode(payload[5:])


def is_closed(sock):
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


# ------------------------------------------------------------------ steps
@step("ping")
def t_ping(ctx):
    check(ctx.client.admin.command("ping")["ok"] == 1.0, "ping not ok")
    info = ctx.client.server_info()
    check(info["version"].startswith("7."), f"buildInfo version {info['version']}")


@step("insert_many 20,000 docs")
def t_insert(ctx):
    coll = ctx.db.items
    coll.drop()
    result = coll.insert_many([{"i": i, "even": i % 2 == 0, "tag": f"t{i % 10}"}
                               for i in range(20000)])
    check(len(result.inserted_ids) == 20000, "inserted_ids")
    check(coll.count_documents({}) == 20000, "count_documents after insert")
    check(coll.estimated_document_count() == 20000, "estimated_document_count")


@step("find with getMore batches")
def t_find(ctx):
    coll = ctx.db.items
    cursor = coll.find({"even": True}, {"_id": 0, "i": 1}).sort("i", -1).batch_size(1000)
    docs = list(cursor)
    check(len(docs) == 10000, f"find returned {len(docs)}")
    check(docs[0] == {"i": 19998} and docs[-1] == {"i": 0}, "sort/projection")
    check(len(list(coll.find())) == 20000, "default batches (101, then 16 MiB)")
    check([d["i"] for d in coll.find({}, limit=5, skip=10).sort("i")] == list(range(10, 15)),
          "skip/limit")
    check(coll.find_one({"i": 42})["tag"] == "t2", "find_one")
    # an abandoned cursor is killed with killCursors
    cursor = coll.find().batch_size(10)
    next(cursor)
    cursor.close()


@step("aggregate")
def t_aggregate(ctx):
    rows = list(ctx.db.items.aggregate([
        {"$match": {"i": {"$lt": 100}}},
        {"$group": {"_id": "$tag", "n": {"$sum": 1}}},
        {"$sort": {"_id": 1}}]))
    check(len(rows) == 10 and all(r["n"] == 10 for r in rows), f"aggregate {rows[:2]}")


@step("update_many / upsert / delete_many")
def t_update_delete(ctx):
    coll = ctx.db.items
    result = coll.update_many({"tag": "t3"}, {"$set": {"seen": True}})
    check(result.matched_count == 2000 and result.modified_count == 2000, "update_many")
    check(coll.count_documents({"seen": True}) == 2000, "updated count")
    result = coll.update_one({"i": -1}, {"$set": {"tag": "new"}}, upsert=True)
    check(result.upserted_id is not None, "upsert")
    result = coll.delete_many({"tag": "t3"})
    check(result.deleted_count == 2000, f"delete_many {result.deleted_count}")
    check(coll.count_documents({}) == 18001, "count after delete")
    check(coll.find_one_and_update({"i": 1}, {"$inc": {"i": 1000000}},
                                   return_document=pymongo.ReturnDocument.AFTER)["i"] == 1000001,
          "find_one_and_update")
    coll.create_index("i", unique=True)
    try:
        coll.insert_one({"i": 2})
        raise AssertionError("duplicate key accepted")
    except pymongo.errors.DuplicateKeyError:
        pass
    check("items" in ctx.db.list_collection_names(), "list_collection_names")
    check(ctx.db.name in ctx.client.list_database_names(), "list_database_names")


@step("15 MiB document round trip")
def t_big_doc(ctx):
    blob = os.urandom(15 * 1024 * 1024)
    coll = ctx.db.big
    coll.drop()
    coll.insert_one({"_id": "big", "blob": blob})
    back = coll.find_one({"_id": "big"})["blob"]
    check(hashlib.sha256(back).digest() == hashlib.sha256(blob).digest(), "15 MiB sha256")


@step("insert_many ~40 MB in one message")
def t_forty_mb(ctx):
    coll = ctx.db.bulk
    coll.drop()
    coll.insert_many([{"n": n, "blob": os.urandom(1000 * 1000)} for n in range(40)])
    check(coll.count_documents({}) == 40, "40 x 1 MB docs")
    check(sum(len(d["blob"]) for d in coll.find()) == 40_000_000, "40 MB back")


@step("zlib-compressed client")
def t_zlib(ctx):
    with pymongo.MongoClient(ctx.uri, compressors="zlib", **ctx.auth) as client:
        coll = client[ctx.db.name].zipped
        coll.drop()
        coll.insert_many([{"i": i, "text": "compress me " * 20} for i in range(500)])
        check(len(list(coll.find().batch_size(50))) == 500, "zlib find")
        check(coll.update_many({}, {"$set": {"z": 1}}).modified_count == 500, "zlib update")
        check(coll.delete_many({"i": {"$gte": 250}}).deleted_count == 250, "zlib delete")


@step("raw: OP_COMPRESSED zlib ping, unknown compressor")
def t_raw_compressed(ctx):
    with raw_connect(ctx.port) as sock:
        inner = op_msg(7, {"ping": 1, "$db": "admin"})
        opcode, request_id = 2013, 7
        payload = struct.pack("<iiB", opcode, len(inner) - 16, 2) + zlib.compress(inner[16:])
        sock.sendall(struct.pack("<iiii", 16 + len(payload), request_id, 0, 2012) + payload)
        op, response_to, body = recv_message(sock)
        check(op == 2012 and response_to == 7, f"compressed reply opcode {op}")
        original, size, cid = struct.unpack_from("<iiB", body)
        check(original == 2013 and cid == 2, "inner opcode / compressor")
        check(msg_body(zlib.decompress(body[9:]))["ok"] == 1.0, "compressed ping")
        payload = struct.pack("<iiB", opcode, len(inner) - 16, 3) + inner[16:]
        sock.sendall(struct.pack("<iiii", 16 + len(payload), 8, 0, 2012) + payload)
        op, response_to, body = recv_message(sock)
        check(op == 2013 and msg_body(body)["ok"] == 0.0, "zstd must be refused")


@step("raw: legacy OP_QUERY isMaster")
def t_raw_op_query(ctx):
    with raw_connect(ctx.port) as sock:
        query = bson.encode({"isMaster": 1, "helloOk": True, "compression": ["zstd", "zlib"]})
        payload = struct.pack("<i", 0) + b"admin.$cmd\0" + struct.pack("<ii", 0, -1) + query
        sock.sendall(struct.pack("<iiii", 16 + len(payload), 11, 0, 2004) + payload)
        op, response_to, body = recv_message(sock)
        check(op == 1 and response_to == 11, f"OP_REPLY expected, got {op}")
        flags, cursor_id, start, returned = struct.unpack_from("<iqii", body)
        check((flags, cursor_id, start, returned) == (0, 0, 0, 1), "OP_REPLY fields")
        doc = bson.decode(body[20:])
        check(doc["ismaster"] is True and doc["maxWireVersion"] == 17, "isMaster fields")
        check(doc["compression"] == ["zlib"] and "setName" not in doc, f"hello {doc}")


@step("raw: checksum, moreToCome, malformed messages")
def t_raw_framing(ctx):
    check(crc32c(b"123456789") == 0xE3069283, "CRC-32C test vector")
    with raw_connect(ctx.port) as sock:
        sock.sendall(op_msg(21, {"ping": 1, "$db": "admin"}, checksum=True))
        op, response_to, body = recv_message(sock)
        check(response_to == 21 and msg_body(body)["ok"] == 1.0, "checksummed ping")
        sock.sendall(op_msg(22, {"ping": 1, "$db": "admin"}, flags=2))  # moreToCome: no reply
        sock.sendall(op_msg(23, {"nosuchcmd": 1, "$db": "admin"}))
        op, response_to, body = recv_message(sock)
        reply = msg_body(body)
        check(response_to == 23 and reply["code"] == 59, f"unknown command {reply}")
        bad = bytearray(op_msg(24, {"ping": 1, "$db": "admin"}, checksum=True))
        bad[-1] ^= 0xFF
        sock.sendall(bad)
        check(is_closed(sock), "bad checksum must close the connection")
    for garbage in (struct.pack("<iiii", 8, 1, 0, 2013),                  # length < 16
                    struct.pack("<iiii", 30, 1, 0, 2013) + b"\x00" * 14,  # empty body section
                    struct.pack("<iiii", 20, 1, 0, 9999) + b"xxxx"):      # unknown opcode
        with raw_connect(ctx.port) as sock:
            sock.sendall(garbage)
            check(is_closed(sock), f"malformed message must close the connection {garbage!r}")
    check(ctx.client.admin.command("ping")["ok"] == 1.0, "server survives bad clients")


@step("authentication")
def t_auth(ctx):
    if not ctx.auth:
        print("    (skipped: no --user given)")
        return
    with pymongo.MongoClient(ctx.uri, authMechanism="SCRAM-SHA-256", **ctx.auth) as client:
        check(client[ctx.db.name].items.count_documents({}) > 0, "SCRAM-SHA-256 login")
    with pymongo.MongoClient(ctx.uri, username=ctx.auth["username"], password="wrong") as client:
        try:
            client.admin.command("ping")  # ping itself needs no auth: the handshake fails first
            raise AssertionError("wrong password accepted")
        except OperationFailure as e:
            check("Authentication failed" in str(e), f"wrong password error {e}")
    with pymongo.MongoClient(ctx.uri) as client:
        check(client.admin.command("ping")["ok"] == 1.0, "unauthenticated ping")
        try:
            client[ctx.db.name].items.find_one()
            raise AssertionError("unauthenticated find accepted")
        except OperationFailure as e:
            check(e.code == 13 and "requires authentication" in str(e), f"code 13 {e}")


@step("drop database")
def t_drop(ctx):
    ctx.client.drop_database(ctx.db.name)
    check(ctx.db.name not in ctx.client.list_database_names(), "dropDatabase")


# ------------------------------------------------------------------ driver
class Context:
    pass


def start_server(args):
    workdir = tempfile.mkdtemp(prefix="mongo-wire-")
    pidfile, logfile = os.path.join(workdir, "server.pid"), os.path.join(workdir, "server.log")
    command = [sys.executable, os.path.join(HERE, "wire_server.py"), "--port", "0",
               "--user", args.user, "--password", args.password, "--pidfile", pidfile,
               "--log", logfile]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    print(line.strip())
    check(line.startswith("mongo-wire-test-server listening on "), f"banner {line!r}")
    port = int(line.split()[3].rsplit(":", 1)[1])
    return process, port, pidfile, logfile


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, help="use a running server instead of starting one")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    process = None
    if args.port is None:
        args.user, args.password = args.user or "alice", args.password or "alice-pw"
        process, args.port, pidfile, logfile = start_server(args)
    ctx = Context()
    ctx.port = args.port
    ctx.uri = (f"mongodb://127.0.0.1:{args.port}/"
               "?directConnection=true&serverSelectionTimeoutMS=5000")
    ctx.auth = {"username": args.user, "password": args.password} if args.user else {}
    ctx.client = pymongo.MongoClient(ctx.uri, **ctx.auth)
    ctx.db = ctx.client["smoke_test"]
    started, failed = time.monotonic(), False
    try:
        for name, fn in STEPS:
            t0 = time.monotonic()
            try:
                fn(ctx)
                print(f"ok    {time.monotonic() - t0:6.2f}s  {name}", flush=True)
            except Exception as e:
                print(f"FAIL  {time.monotonic() - t0:6.2f}s  {name}: {type(e).__name__}: {e}")
                failed = True
                break
    finally:
        ctx.client.close()
        if process:
            process.terminate()
            rc = process.wait(10)
            if rc != 0 or os.path.exists(pidfile):
                print(f"FAIL  server exit code {rc} after SIGTERM, pidfile left: "
                      f"{os.path.exists(pidfile)}")
                failed = True
            else:
                print("ok             server exited cleanly on SIGTERM")
            print(f"server log: {logfile}")
    print(f"{'FAILED' if failed else 'PASSED'} in {time.monotonic() - started:.2f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
