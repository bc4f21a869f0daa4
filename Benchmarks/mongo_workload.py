#!/usr/bin/env python3
"""Row 6 of scripts/bench: pymongo round trips and a cursor read, timed.

  mongo_workload.py prepare --uri URI --docs N     (re)fill appdb.dbproxy_bench_small (100
                                                   documents) and appdb.dbproxy_bench_big (N
                                                   documents of ~1,000 bytes each)
  mongo_workload.py findone --uri URI --count N    N find_one round trips on the small collection
  mongo_workload.py cursor --uri URI               read the whole big collection through a cursor
  mongo_workload.py drop --uri URI                 drop both collections
  mongo_workload.py ping --uri URI                 log in, print {"version": buildInfo's version}

Each measuring command prints one JSON line: {"seconds": S, "operations": N, "bytes": B}; the
time excludes the connection and login (one ping runs first).
"""
import argparse
import json
import sys
import time

import pymongo
from bson.raw_bson import RawBSONDocument

DB = "appdb"


def client(uri: str) -> pymongo.MongoClient:
    c = pymongo.MongoClient(uri, directConnection=True, serverSelectionTimeoutMS=15000,
                            document_class=RawBSONDocument)
    c[DB].command("ping")
    return c


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["prepare", "findone", "cursor", "drop", "ping"])
    parser.add_argument("--uri", required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--docs", type=int, default=100000)
    args = parser.parse_args()
    c = client(args.uri)
    db = c[DB]
    if args.command == "prepare":
        db.dbproxy_bench_small.drop()
        db.dbproxy_bench_small.insert_many([{"_id": i, "name": f"user{i}", "n": i} for i in range(100)])
        db.dbproxy_bench_big.drop()
        pad = "x" * 960
        batch = []
        for i in range(args.docs):
            batch.append({"_id": i, "pad": pad})
            if len(batch) == 5000:
                db.dbproxy_bench_big.insert_many(batch)
                batch = []
        if batch:
            db.dbproxy_bench_big.insert_many(batch)
        return 0
    if args.command == "ping":
        print(json.dumps({"version": c.admin.command("buildInfo").get("version", "unknown")}))
        return 0
    if args.command == "drop":
        db.dbproxy_bench_small.drop()
        db.dbproxy_bench_big.drop()
        return 0
    if args.command == "findone":
        coll = db.dbproxy_bench_small
        started = time.monotonic()
        for i in range(args.count):
            if coll.find_one({"_id": i % 100}) is None:
                print(f"document {i % 100} missing", file=sys.stderr)
                return 1
        seconds = time.monotonic() - started
        print(json.dumps({"seconds": seconds, "operations": args.count, "bytes": 0}))
        return 0
    started = time.monotonic()
    count = nbytes = 0
    for doc in db.dbproxy_bench_big.find({}, batch_size=10000):
        count += 1
        nbytes += len(doc.raw)
    seconds = time.monotonic() - started
    print(json.dumps({"seconds": seconds, "operations": count, "bytes": nbytes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
