#!/usr/bin/env python3
"""A test client that runs MongoDB workloads through pymongo against one connection URI.
The integration tests run it through the proxy chain; it can be run by hand against any server.

    mongoworkload.py URI SUBCOMMAND [options]

Output: one key=value fact per line on stdout, ending with result=ok (exit 0) or result=fail and
error=... (exit 1, the message also on stderr). See README.md.
"""
import argparse
import hashlib
import os
import sys
import time

import pymongo
from pymongo.errors import PyMongoError


def fact(key, value):
    print(f"{key}={value}", flush=True)


def client(uri, **options):
    return pymongo.MongoClient(uri, **options)


def server(c):
    info = c.admin.command("buildInfo")
    fact("server_version", info.get("version", "?"))


def crud(args):
    """insert_many, a find over several getMore batches, aggregate, update, delete."""
    c = client(args.uri)
    server(c)
    coll = c[args.database][args.collection]
    coll.drop()
    n = args.count
    started = time.monotonic()
    coll.insert_many([{"_id": i, "group": i % 10, "value": i * 3, "text": f"row-{i}"} for i in range(n)])
    fact("inserted", coll.count_documents({}))
    seen, batches_sum = 0, 0
    cursor = coll.find({}, batch_size=args.batch_size).sort("_id", 1)
    expected = 0
    for doc in cursor:
        if doc["_id"] != expected or doc["value"] != expected * 3:
            raise SystemExit(f"find: row {expected} came back as {doc}")
        expected += 1
        seen += 1
    fact("found", seen)
    fact("get_more_batches", max(0, -(-seen // args.batch_size) - 1))
    groups = list(coll.aggregate([{"$group": {"_id": "$group", "n": {"$sum": 1}, "total": {"$sum": "$value"}}}, {"$sort": {"_id": 1}}]))
    fact("aggregate_groups", len(groups))
    fact("aggregate_total", sum(g["total"] for g in groups))
    updated = coll.update_many({"group": 3}, {"$set": {"flag": True}})
    fact("updated", updated.modified_count)
    fact("flagged", coll.count_documents({"flag": True}))
    deleted = coll.delete_many({"group": {"$in": [1, 2]}})
    fact("deleted", deleted.deleted_count)
    fact("remaining", coll.count_documents({}))
    coll.drop()
    fact("seconds", f"{time.monotonic() - started:.3f}")


def big_document(args):
    """One document of about --megabytes MiB written and read back, compared by SHA-256."""
    c = client(args.uri)
    coll = c[args.database][args.collection]
    coll.drop()
    payload = os.urandom(int(args.megabytes * 1024 * 1024) - 256)
    sent = hashlib.sha256(payload).hexdigest()
    started = time.monotonic()
    coll.insert_one({"_id": "big", "payload": payload})
    back = coll.find_one({"_id": "big"})
    received = hashlib.sha256(back["payload"]).hexdigest()
    fact("bytes", len(payload))
    fact("sent_sha256", sent)
    fact("received_sha256", received)
    coll.drop()
    fact("seconds", f"{time.monotonic() - started:.3f}")
    if sent != received:
        raise SystemExit("the document came back different")


def bulk_insert(args):
    """One insert_many of about --megabytes MB (pymongo sends it as OP_MSG document sequences)."""
    c = client(args.uri)
    coll = c[args.database][args.collection]
    coll.drop()
    size = 256 * 1024
    count = int(args.megabytes * 1_000_000 // size)
    docs = [{"_id": i, "blob": bytes([i % 251]) * size} for i in range(count)]
    started = time.monotonic()
    coll.insert_many(docs)
    fact("documents", count)
    fact("megabytes", f"{count * size / 1_000_000:.1f}")
    fact("counted", coll.count_documents({}))
    digest = hashlib.sha256()
    for doc in coll.find({}).sort("_id", 1):
        digest.update(doc["blob"])
    expected = hashlib.sha256()
    for doc in docs:
        expected.update(doc["blob"])
    fact("digest_equal", digest.hexdigest() == expected.hexdigest())
    coll.drop()
    fact("seconds", f"{time.monotonic() - started:.3f}")


def compressed(args):
    """The same small operations with compressors=zlib."""
    c = client(args.uri, compressors="zlib")
    coll = c[args.database][args.collection]
    coll.drop()
    coll.insert_many([{"_id": i, "text": "compress me " * 50} for i in range(500)])
    fact("counted", coll.count_documents({}))
    fact("read_back", sum(1 for _ in coll.find({"text": {"$exists": True}})))
    # What the connections negotiated with the server (pymongo keeps no public record of it).
    pool = c._get_topology().select_server(pymongo.read_preferences.ReadPreference.PRIMARY, "compressed").pool
    contexts = sorted({type(conn.compression_context).__name__ for conn in pool.conns})
    fact("compression_contexts", ",".join(contexts) or "none")
    coll.drop()


def login(args):
    """One command after logging in with --user/--password (SCRAM-SHA-256)."""
    c = client(args.uri, username=args.user, password=args.password, authSource=args.auth_source,
               authMechanism="SCRAM-SHA-256")
    c[args.database].command("ping")
    fact("logged_in_as", args.user)
    fact("collections", len(c[args.database].list_collection_names()))


def command(args):
    """One command on one database: shows whether it is allowed."""
    c = client(args.uri)
    reply = c[args.database].command(args.name)
    fact("ok", reply.get("ok"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("uri")
    sub = parser.add_subparsers(dest="subcommand", required=True)
    for name in ("crud", "big-document", "bulk-insert", "compressed", "login", "command"):
        p = sub.add_parser(name)
        p.add_argument("--database", default="appdb")
        p.add_argument("--collection", default="mongoworkload")
        if name == "crud":
            p.add_argument("--count", type=int, default=20000)
            p.add_argument("--batch-size", type=int, default=1000)
        if name == "big-document":
            p.add_argument("--megabytes", type=float, default=15)
        if name == "bulk-insert":
            p.add_argument("--megabytes", type=float, default=40)
        if name == "login":
            p.add_argument("--user", required=True)
            p.add_argument("--password", required=True)
            p.add_argument("--auth-source", default="admin")
        if name == "command":
            p.add_argument("--name", default="ping")
    args = parser.parse_args()
    run = {"crud": crud, "big-document": big_document, "bulk-insert": bulk_insert, "compressed": compressed,
           "login": login, "command": command}[args.subcommand]
    started = time.monotonic()
    try:
        run(args)
    except (PyMongoError, SystemExit, OSError) as error:
        message = " ".join(str(error).split())
        fact("error_type", type(error).__name__)
        if hasattr(error, "code"):
            fact("error_code", error.code)
        fact("error", message)
        print(message, file=sys.stderr)
        fact("result", "fail")
        sys.exit(1)
    fact("total_seconds", f"{time.monotonic() - started:.3f}")
    fact("result", "ok")


if __name__ == "__main__":
    main()
