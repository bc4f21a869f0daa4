#!/usr/bin/env python3
"""The benchmark harness of scripts/bench (issue 8): every workload three ways.

  direct  client -> database
  ours    client -> dbproxy proxy -> dbproxy serve -> database   (release build, default settings)
  ours+pool  the same with `dbproxy proxy --warm-pool 4` (row 4 only, shown as row 4p)
  peer    client -> HAProxy (plain in, mTLS + ALPN out) -> HAProxy (mTLS, use_backend by ALPN) -> database

Run it through scripts/bench, which builds the release binary, makes the work directory and
removes it (and any process this program started and left behind) on exit. Standard output
gets the markdown table only; progress goes to standard error. No figure is asserted: the exit
status is 1 only when a row could not be measured at all (the table says which and why).
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import re
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WAYS = ("direct", "ours", "peer")
POOL = "ours+pool"  # row 4 only: `dbproxy proxy --warm-pool WARM_POOL`, reported as row 4p
WARM_POOL = 4
PACED_RATE = 20  # row 4: connections per second of the paced single-client run (pgbench -R)
MARK_BEGIN = "<!-- scripts/bench:begin (generated; the text outside these markers is kept) -->"
MARK_END = "<!-- scripts/bench:end -->"


@dataclass
class Mode:
    name: str
    runs: int
    t_tps: int  # row 1 seconds
    t_lat: int  # row 2 seconds
    copy_rows: int  # row 3
    t_conn: int  # row 4 seconds
    t_conn1: int  # row 4b seconds
    slap_queries: int  # row 5
    idle: int  # row 7 connections
    t_cliff: int  # row 8 seconds per client count
    cliff_runs: int  # row 8 runs per way (each runs every client count)
    mongo_finds: int  # row 6
    mongo_docs: int  # row 6: ~984 bytes each
    scale: int = 4  # pgbench scale: 400,000 accounts, ~60 MB, fits shared_buffers


CLIFF_CLIENTS = (1, 8, 64, 256)  # row 8; the dev PostgreSQL allows 300 connections
FULL = Mode("full", runs=5, t_tps=8, t_lat=6, copy_rows=500_000, t_conn=6, t_conn1=4, slap_queries=80_000, idle=1000,
            t_cliff=4, cliff_runs=3, mongo_finds=10_000, mongo_docs=100_000)
QUICK = Mode("quick", runs=2, t_tps=3, t_lat=2, copy_rows=100_000, t_conn=3, t_conn1=2, slap_queries=16_000, idle=200,
             t_cliff=2, cliff_runs=1, mongo_finds=2_000, mongo_docs=20_000)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Failure(Exception):
    pass


# ---------------------------------------------------------------- processes

def proc_start_time(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (its threads included), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()[:120]
    except OSError:
        return "?"


def listener_pids(port: int) -> set[int]:
    """The processes with a TCP socket listening on `port`, on any local address (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) > 9 and f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{f[9]}]")
    pids = set()
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                pids.add(int(fd_dir.parent.name))
        except OSError:
            continue
    return pids


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise Failure(f"no VmRSS for pid {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Processes:
    """Children in their own sessions (Ctrl-C reaches only this program, which stops them in
    order). Each pid and start time goes to WORK/pids so scripts/bench can stop leftovers."""

    def __init__(self, work: Path):
        self.work = work
        self.running: list[tuple[str, subprocess.Popen]] = []
        self.count: dict[str, int] = {}

    def start(self, name: str, argv: list[str], cwd: Path | None = None, stdin=subprocess.DEVNULL) -> subprocess.Popen:
        """Starts argv with its output in WORK/<name>.log (a new name each time: name-2, name-3 ...)."""
        self.count[name] = self.count.get(name, 0) + 1
        if self.count[name] > 1:
            name = f"{name}-{self.count[name]}"
        logfile = open(self.work / f"{name}.log", "wb")
        p = subprocess.Popen(argv, stdout=logfile, stderr=subprocess.STDOUT, stdin=stdin, cwd=cwd, start_new_session=True)
        logfile.close()
        p.bench_name = name
        try:
            with open(self.work / "pids", "a") as f:
                f.write(f"{p.pid} {proc_start_time(p.pid)}\n")
        except OSError:
            pass
        self.running.append((name, p))
        return p

    def log_tail(self, name: str, lines: int = 15) -> str:
        try:
            text = (self.work / f"{name}.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def wait_for(self, p: subprocess.Popen, ready, seconds: float = 20) -> None:
        name = p.bench_name
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ready():
                return
            if p.poll() is not None:
                raise Failure(f"{name} exited with status {p.returncode}:\n{self.log_tail(name)}")
            time.sleep(0.05)
        raise Failure(f"{name} was not ready within {seconds:.0f} s:\n{self.log_tail(name)}")

    def wait_for_line(self, p: subprocess.Popen, pattern: str, seconds: float = 20) -> None:
        path = self.work / f"{p.bench_name}.log"
        self.wait_for(p, lambda: path.exists() and pattern in path.read_text(errors="replace"), seconds)

    def stop(self, p: subprocess.Popen) -> None:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.running = [(n, q) for n, q in self.running if q is not p]

    def stop_all(self) -> None:
        for _, p in reversed(list(self.running)):
            self.stop(p)


_ports_given: set[int] = set()


def free_port() -> int:
    """A loopback port that nothing listens on now and that this run has not handed out before.

    The kernel may offer a port again once its probe socket is closed; two listeners of one run on
    the same port would go unnoticed where both set SO_REUSEPORT (HAProxy always does, dbproxy
    per event loop) and the kernel would share the connections out between them.
    """
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port
    raise Failure("no free loopback port left")


def run(argv: list[str], timeout: float = 600, stdin=None, env=None, what: str | None = None) -> tuple[str, float]:
    """Runs a client; returns (stdout, wall seconds); raises Failure with its output otherwise."""
    started = time.monotonic()
    try:
        r = subprocess.run(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise Failure(f"{what or argv[0]} did not finish within {timeout:.0f} s")
    seconds = time.monotonic() - started
    out = r.stdout.decode(errors="replace")
    if r.returncode != 0:
        err = (r.stderr.decode(errors="replace") + out).strip().splitlines()
        raise Failure(f"{what or argv[0]} exited with status {r.returncode}: " + " | ".join(err[-4:]))
    return out, seconds


# ---------------------------------------------------------------- the three ways

# Per database kind: service name in the router config and certificate, protocol, ALPN.
KINDS = {
    "pg": ("pg1", "postgres", "teleport-postgres"),
    "my": ("my1", "mysql", "teleport-mysql"),
    "mongo": ("mongo1", "mongodb", "teleport-mongodb"),
}


@dataclass
class Endpoint:
    ports: dict[str, int]  # "pg" / "my" / "mongo" -> where the client connects
    pids: dict[str, int] = field(default_factory=dict)  # "local" / "router" -> pid
    logs: dict[str, str] = field(default_factory=dict)  # "local" / "router" -> log name in WORK


class Bench:
    def __init__(self, args, mode: Mode, only: set[str] | None = None):
        self.args = args
        self.mode = mode
        self.only = only
        self.want_mongo = not only or "6" in only
        self.mongo_version = ""
        self.work = Path(args.work)
        self.dbproxy = args.dbproxy
        self.procs = Processes(self.work)
        self.env = dev_db_env()
        self.backends = {
            "pg": (self.env.get("DEV_DB_PG_HOST", "127.0.0.1"), int(self.env.get("DEV_DB_PG_PORT", "25432"))),
            "my": (self.env.get("DEV_DB_MARIA_HOST", "127.0.0.1"), int(self.env.get("DEV_DB_MARIA_PORT", "23307"))),
            "mongo": (self.env.get("DEV_DB_MONGO_HOST", "127.0.0.1"), int(self.env.get("DEV_DB_MONGO_PORT", "27117"))),
        }
        self.mongo_kind = self.env.get("DEV_DB_MONGO_KIND", "unknown")
        self.pg, self.my = self.backends["pg"], self.backends["my"]
        self.ways: dict[str, Endpoint] = {}
        # results[row][metric][way] = [values]
        self.results: dict[str, dict[str, dict[str, list[float]]]] = {}
        self.errors: dict[str, list[str]] = {}
        self.load: dict[str, str] = {}
        self.blob_md5 = ""
        self.certs = self.work / "certs"

    # ---- setup

    def make_certificates(self) -> None:
        log("certificates: dbproxy certs init / issue")
        run([self.dbproxy, "certs", "init", "--out", str(self.certs)], what="dbproxy certs init")
        for kind, user, dbname in (("pg", "trustuser", "benchdb"), ("my", "alice", "appdb"), ("mongo", "alice", "appdb")):
            service, protocol, _ = KINDS[kind]
            run([self.dbproxy, "certs", "issue", "--ca-dir", str(self.certs), "--user", "bench", "--db-service", service,
                 "--db-protocol", protocol, "--db-user", user, "--db-name", dbname, "--out", str(self.certs / kind)],
                what=f"dbproxy certs issue ({protocol})")
        # HAProxy wants certificate and key in one file.
        for name in ("server", *KINDS):
            path = self.certs / f"{name}-full.pem"
            path.write_bytes((self.certs / f"{name}.pem").read_bytes() + (self.certs / f"{name}-key.pem").read_bytes())
            path.chmod(0o600)

    def start_ours(self, tag: str, backends: dict[str, tuple[str, int]], extra: tuple[str, ...] = ()) -> Endpoint:
        router_port = free_port()
        dbs = [f"  - {{ name: {KINDS[k][0]}, protocol: {KINDS[k][1]}, uri: {h}:{p} }}" for k, (h, p) in backends.items()]
        config = self.work / f"router-{tag}.yaml"
        config.write_text(f"""version: v2
proxy_service:
  web_listen_addr: 127.0.0.1:{router_port}
  public_addr: [localhost:{router_port}]
  https_keypairs:
    - {{ cert_file: certs/server.pem, key_file: certs/server-key.pem }}
  client_ca_file: certs/user-ca.pem
databases:
""" + "\n".join(dbs) + "\n")
        serve = self.procs.start(f"dbproxy-serve-{tag}", [self.dbproxy, "serve", "--config", str(config)])
        self.procs.wait_for_line(serve, "Router listening")
        ep = Endpoint(ports={k: free_port() for k in backends})
        # As the local HAProxy: the router by IP address, SNI localhost (checked against the certificate).
        argv = [self.dbproxy, "proxy", "--proxy", f"127.0.0.1:{router_port}", "--sni", "localhost", "--ca", str(self.certs / "host-ca.pem"), *extra]
        for k in backends:
            argv += ["--db", f"{KINDS[k][0]}={self.certs / k},port={ep.ports[k]}"]
        proxy = self.procs.start(f"dbproxy-proxy-{tag}", argv)
        self.procs.wait_for_line(proxy, f"Started {len(backends)} of {len(backends)} database")
        ep.pids = {"local": proxy.pid, "router": serve.pid}
        ep.logs = {"local": proxy.bench_name, "router": serve.bench_name}
        self.check_sole_listener({router_port: serve.pid, **{port: proxy.pid for port in ep.ports.values()}})
        return ep

    def start_peer(self, tag: str, backends: dict[str, tuple[str, int]]) -> Endpoint:
        c = self.certs
        router_port = free_port()
        ep = Endpoint(ports={k: free_port() for k in backends})
        # HAProxy asks for about 2 x maxconn descriptors and refuses to start above the hard limit.
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        maxconn = max(1000, min(max(8000, self.mode.idle + 200), (hard - 100) // 2 if hard > 0 else 8000))
        # noreuseport: a port another listener holds fails HAProxy's start instead of being shared.
        head = f"""global
    maxconn {maxconn}
    noreuseport
defaults
    mode tcp
    timeout connect 10s
    timeout client 1h
    timeout server 1h
"""
        alpns = ",".join(KINDS[k][2] for k in backends)
        router = head + f"""frontend router
    bind 127.0.0.1:{router_port} ssl crt {c}/server-full.pem ca-file {c}/user-ca.pem verify required alpn {alpns}
"""
        router += "".join(f"    use_backend {k} if {{ ssl_fc_alpn -i {KINDS[k][2]} }}\n" for k in backends)
        router += "".join(f"backend {k}\n    server {k} {h}:{p}\n" for k, (h, p) in backends.items())
        local = head + "".join(f"""frontend {k}
    bind 127.0.0.1:{ep.ports[k]}
    default_backend {k}
backend {k}
    server router 127.0.0.1:{router_port} ssl crt {c}/{k}-full.pem ca-file {c}/host-ca.pem verify required alpn {KINDS[k][2]} sni str(localhost)
""" for k in backends)
        pids, logs = {}, {}
        for role, text, ports in (("router", router, [router_port]), ("local", local, list(ep.ports.values()))):
            path = self.work / f"haproxy-{role}-{tag}.cfg"
            path.write_text(text)
            run(["haproxy", "-c", "-q", "-f", str(path)], what=f"haproxy -c {path.name}")
            p = self.procs.start(f"haproxy-{role}-{tag}", ["haproxy", "-db", "-f", str(path)])
            # Ready when it listens on each of its ports itself: a connection test would also pass
            # on a port some other process listens on.
            self.procs.wait_for(p, lambda ports=ports, pid=p.pid: all(pid in listener_pids(q) for q in ports))
            pids[role], logs[role] = p.pid, p.bench_name
        ep.pids, ep.logs = pids, logs
        self.check_sole_listener({router_port: pids["router"], **{port: pids["local"] for port in ep.ports.values()}})
        return ep

    @staticmethod
    def check_sole_listener(owners: dict[int, int]) -> None:
        """Fails unless each port is listened on by its own process alone."""
        for port, pid in owners.items():
            holders = listener_pids(port)
            if holders and holders != {pid}:
                others = ", ".join(f"{q} ({proc_cmdline(q)})" for q in sorted(holders - {pid}))
                raise Failure(f"127.0.0.1:{port} is listened on by {others or 'nobody'} as well as process {pid}")

    def start_way(self, kind: str, tag: str, backends: dict[str, tuple[str, int]], extra: tuple[str, ...] = ()) -> Endpoint:
        """start_ours or start_peer, again on new ports (up to 3 times) when a start fails."""
        for attempt in range(1, 4):
            started = len(self.procs.running)
            try:
                if kind == "ours":
                    return self.start_ours(tag, backends, extra)
                return self.start_peer(tag, backends)
            except Failure as e:
                for _, p in list(self.procs.running[started:]):
                    self.procs.stop(p)
                if attempt == 3:
                    raise
                log(f"starting {kind} ({tag}) failed, trying again on other ports: " + " | ".join(str(e).splitlines()[:4]))
        raise AssertionError("unreachable")

    def address(self, way: str, kind: str) -> tuple[str, int]:
        return self.backends[kind] if way == "direct" else ("127.0.0.1", self.ways[way].ports[kind])

    def mongo_uri(self, way: str) -> str:
        host, port = self.address(way, "mongo")
        return f"mongodb://alice:alice-pw@{host}:{port}/appdb?authSource=admin"

    def pg_uri(self, way: str, user: str = "trustuser", db: str = "benchdb") -> str:
        host, port = self.address(way, "pg")
        # sslmode=disable for all three: ours answers SSLRequest itself, but HAProxy would pass it
        # on and libpq would run TLS to PostgreSQL inside the tunnel.
        return f"postgresql://{user}@{host}:{port}/{db}?sslmode=disable"

    def my_args(self, way: str) -> list[str]:
        host, port = self.address(way, "my")
        # --skip-ssl for all three: the MariaDB client tries TLS by default, which the peer would
        # carry to MariaDB inside its tunnel.
        return ["--no-defaults", f"--host={host}", f"--port={port}", "--protocol=TCP", "--user=alice",
                "--password=alice-pw", "--skip-ssl"]

    def psql(self, way: str, sql: str, **kw) -> tuple[str, float]:
        return run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.pg_uri(way), "-c", sql], what=f"psql ({way})", **kw)

    def setup(self) -> None:
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))  # children inherit it
        self.make_certificates()
        log("benchdb: created when missing; pgbench -i -s %d" % self.mode.scale)
        exists, _ = run(["psql", "-X", "-Atc", "SELECT 1 FROM pg_database WHERE datname = 'benchdb'",
                         f"postgresql://postgres@{self.pg[0]}:{self.pg[1]}/postgres?sslmode=disable"], what="psql (postgres)")
        if exists.strip() != "1":
            run(["psql", "-X", "-qc", "CREATE DATABASE benchdb OWNER trustuser",
                 f"postgresql://postgres@{self.pg[0]}:{self.pg[1]}/postgres?sslmode=disable"], what="CREATE DATABASE benchdb")
        run(["pgbench", "-i", "-q", "-s", str(self.mode.scale), self.pg_uri("direct")], what="pgbench -i")
        run(["mariadb", *self.my_args("direct"), "appdb", "-e",
             "CREATE TABLE IF NOT EXISTS dbproxy_bench_blob (id INT PRIMARY KEY, b LONGBLOB)"], what="mariadb (create table)")
        log(f"files: COPY input ({self.mode.copy_rows:,} lines of 1,000 x) and a 16 MiB BLOB statement")
        line = b"x" * 1000 + b"\n"
        with open(self.work / "copy-in.txt", "wb") as f:
            chunk = line * 1000
            for _ in range(self.mode.copy_rows // 1000):
                f.write(chunk)
            f.write(line * (self.mode.copy_rows % 1000))
        blob = os.urandom(16 * 1024 * 1024)
        self.blob_md5 = hashlib.md5(blob).hexdigest()
        (self.work / "blob.sql").write_text("REPLACE INTO dbproxy_bench_blob VALUES (1, 0x" + blob.hex() + ");\n")

        log("starting dbproxy serve + dbproxy proxy (release) and the HAProxy pair")
        kinds = ["pg", "my"] + (["mongo"] if self.want_mongo else [])
        self.ways["ours"] = self.start_way("ours", "main", {k: self.backends[k] for k in kinds})
        self.ways["peer"] = self.start_way("peer", "main", {k: self.backends[k] for k in kinds})
        self.ways["direct"] = Endpoint(ports={k: self.backends[k][1] for k in kinds})
        if not self.only or "4" in self.only:
            log(f"starting a second dbproxy serve + dbproxy proxy --warm-pool {WARM_POOL} for row 4p")
            self.pool_metrics = free_port()
            self.ways[POOL] = self.start_way("ours", "pool", {"pg": self.backends["pg"]}, extra=(
                "--warm-pool", str(WARM_POOL), "--http-address", f"127.0.0.1:{self.pool_metrics}"))
        self.verify()

    def verify(self) -> None:
        log("checking each way once: psql, COPY byte count, mariadb" + (", pymongo" if self.want_mongo else ""))
        for way in WAYS:
            out, _ = self.psql(way, "SELECT current_user, current_database(), inet_server_port()")
            if out.strip() != f"trustuser|benchdb|{self.pg[1]}":
                raise Failure(f"psql through {way} answered {out.strip()!r}")
            out, _ = run(["psql", "-X", "-q", self.pg_uri(way), "-c",
                          "COPY (SELECT repeat('x',1000) FROM generate_series(1,1000)) TO STDOUT"], what=f"psql COPY ({way})")
            if len(out) != 1000 * 1001:
                raise Failure(f"COPY through {way} gave {len(out)} bytes, not {1000 * 1001}")
            out, _ = run(["mariadb", *self.my_args(way), "appdb", "-N", "-B", "-e",
                          "SELECT @@port, CURRENT_USER(), (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME='SSL_CIPHER')"],
                         what=f"mariadb ({way})")
            fields = out.strip().split("\t")
            if fields[:2] != [str(self.my[1]), "alice@%"] or (len(fields) > 2 and fields[2] not in ("", "NULL")):
                raise Failure(f"mariadb through {way} answered {out.strip()!r} (want port, alice@%, no TLS to the server)")
            if self.want_mongo:
                out, _ = run([sys.executable, str(HERE / "mongo_workload.py"), "ping", "--uri", self.mongo_uri(way)],
                             timeout=60, what=f"pymongo ({way})")
                self.mongo_version = json.loads(out.strip().splitlines()[-1])["version"]
            log(f"  {way}: psql, COPY, mariadb" + (", pymongo" if self.want_mongo else "") + " answered")
        if POOL in self.ways:
            out, _ = self.psql(POOL, "SELECT current_user, current_database(), inet_server_port()")
            if out.strip() != f"trustuser|benchdb|{self.pg[1]}":
                raise Failure(f"psql through {POOL} answered {out.strip()!r}")
            log(f"  {POOL}: psql answered")
        serve_log = (self.work / f"{self.ways['ours'].logs['router']}.log").read_text(errors="replace")
        for alpn in ("teleport-postgres-ping", "teleport-mysql-ping") + (("teleport-mongodb-ping",) if self.want_mongo else ()):
            if f"alpn={alpn}" not in serve_log:
                raise Failure(f"the router's log shows no connection with ALPN {alpn}")
        log("  ours negotiated the -ping ALPN variants (ping framing, as in production)")

    def cleanup(self) -> None:
        self.procs.stop_all()
        try:
            run(["mariadb", *self.my_args("direct"), "appdb", "-e", "DROP TABLE IF EXISTS dbproxy_bench_blob"],
                timeout=30, what="mariadb (drop table)")
        except Exception:
            pass

    # ---- recording

    def record(self, row: str, way: str, values: dict[str, float]) -> None:
        if way == POOL:
            row, way = row + "p", "ours"
        for metric, value in values.items():
            self.results.setdefault(row, {}).setdefault(metric, {}).setdefault(way, []).append(value)

    def rows(self):
        m = self.mode
        return [
            ("1", self.row_pgbench_tps, "row 1: pgbench -S -c 8 -j 2"),
            ("2", self.row_pgbench_latency, "row 2: pgbench -S -c 1"),
            ("3", self.row_copy, "row 3: COPY out and in"),
            ("4", self.row_connections, "row 4: pgbench -C -S -c 4 -j 2 and -C -c 1"),
            ("5", self.row_mariadb, "row 5: mariadb-slap -c 8 and a 16 MiB BLOB"),
            ("6", self.row_mongo, "row 6: pymongo find_one and a cursor read"),
            ("7", self.row_idle, f"row 7: RSS with {m.idle:,} idle connections"),
            ("8", self.row_cliff, "row 8: pgbench -S at -c " + ", ".join(map(str, CLIFF_CLIENTS))),
        ]

    def run_rows(self, only: set[str] | None) -> None:
        for row, fn, title in self.rows():
            if only and row not in only:
                continue
            load_before = open("/proc/loadavg").read().split()[0]
            log(f"{title} (load average {load_before})")
            started = time.monotonic()
            try:
                fn(row)
            except Failure as e:
                self.errors.setdefault(row, []).append(str(e))
                log(f"  FAILED: {e}")
            self.load[row] = (load_before, open("/proc/loadavg").read().split()[0])
            log(f"  {title}: {time.monotonic() - started:.0f} s (load average {self.load[row][1]} at the end)")

    def interleaved(self, row: str, measure, ways=WAYS) -> None:
        """measure(way) -> {metric: value}; run i of each way after run i of the one before."""
        for i in range(self.mode.runs):
            for way in ways:
                try:
                    values = measure(way)
                except Failure as e:
                    self.errors.setdefault(row, []).append(f"run {i + 1} {way}: {e}")
                    log(f"  run {i + 1}/{self.mode.runs} {way}: FAILED: {e}")
                    self.show_logs(way)
                    continue
                self.record(row, way, values)
                shown = ", ".join(f"{k} {fmt(v)}" for k, v in values.items())
                log(f"  run {i + 1}/{self.mode.runs} {way:6} {shown}")

    def show_logs(self, way: str, lines: int = 8) -> None:
        """The last lines each process of a way wrote, after a failure through it."""
        ep = self.ways.get(way)
        for role, name in (ep.logs.items() if ep else ()):
            tail = self.procs.log_tail(name, lines)
            log(f"    {role} ({name}.log), last lines:" + ("".join(f"\n      {t}" for t in tail.splitlines()) or " (empty)"))

    # ---- rows

    def pgbench(self, way: str, args: list[str], seconds: int, log_rate: float | None) -> dict[str, float]:
        prefix = self.work / "pgbench-log"
        for old in self.work.glob("pgbench-log*"):
            old.unlink()
        argv = ["pgbench", "-n", "-S", *args, "-T", str(seconds)]
        if log_rate is not None:
            argv += ["--log", f"--log-prefix={prefix}"] + ([f"--sampling-rate={log_rate}"] if log_rate < 1 else [])
        out, _ = run(argv + [self.pg_uri(way)], timeout=seconds + 120, what=f"pgbench ({way})")
        failed = re.search(r"number of failed transactions: (\d+)", out)
        if failed and int(failed.group(1)) > 0:
            raise Failure(f"pgbench reported {failed.group(1)} failed transactions")
        tps = re.search(r"^tps = ([\d.]+)", out, re.M)
        latency = re.search(r"^latency average = ([\d.]+) ms", out, re.M)
        if not tps or not latency:
            raise Failure(f"no tps or latency in pgbench's output: {out[-300:]!r}")
        values = {"tps": float(tps.group(1)), "latency average ms": float(latency.group(1))}
        connection = re.search(r"^average connection time = ([\d.]+) ms", out, re.M)
        if connection:
            values["connection time ms"] = float(connection.group(1))
        elif "-C" in args:
            raise Failure(f"no connection time in pgbench's output: {out[-300:]!r}")
        if log_rate is not None:
            samples = []
            for path in self.work.glob("pgbench-log*"):
                with open(path) as f:
                    for line in f:
                        parts = line.split()
                        if len(parts) >= 3 and parts[2].isdigit():
                            samples.append(int(parts[2]))
            if not samples:
                raise Failure("pgbench wrote no per-transaction log")
            samples.sort()
            values["latency p99 ms"] = samples[max(0, math.ceil(0.99 * len(samples)) - 1)] / 1000
        return values

    def row_pgbench_tps(self, row: str) -> None:
        self.interleaved(row, lambda way: self.pgbench(way, ["-c", "8", "-j", "2"], self.mode.t_tps, 0.2))

    def row_pgbench_latency(self, row: str) -> None:
        self.interleaved(row, lambda way: self.pgbench(way, ["-c", "1"], self.mode.t_lat, 1.0))

    def row_copy(self, row: str) -> None:
        n = self.mode.copy_rows
        nbytes = n * 1001
        cpu_row = "3cpu"

        def measure(way: str) -> dict[str, float]:
            pids = self.ways[way].pids
            before = {role: cpu_seconds(pid) for role, pid in pids.items()}
            _, out_s = run(["psql", "-X", "-q", self.pg_uri(way), "-c",
                            f"COPY (SELECT repeat('x',1000) FROM generate_series(1,{n})) TO STDOUT", "-o", "/dev/null"],
                           what=f"psql COPY TO STDOUT ({way})")
            with open(self.work / "copy-in.txt", "rb") as f:
                out, in_s = run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.pg_uri(way),
                                 "-c", "CREATE TEMP TABLE bench_copy_in (t text)", "-c", "COPY bench_copy_in FROM STDIN",
                                 "-c", "SELECT count(*) FROM bench_copy_in"], stdin=f, what=f"psql COPY FROM STDIN ({way})")
            if out.strip() != str(n):
                raise Failure(f"COPY FROM STDIN through {way} stored {out.strip()} rows, not {n}")
            if pids:
                used = {role: cpu_seconds(pid) - before[role] for role, pid in pids.items()}
                gb = 2 * nbytes / 1e9
                self.record(cpu_row, way, {f"{role} process": used[role] / gb for role in ("local", "router")})
                self.record(cpu_row, way, {"both": (used["local"] + used["router"]) / gb})
                log(f"    {way}: CPU seconds for {gb:.2f} GB: local {used['local']:.2f}, router {used['router']:.2f}")
            return {"COPY TO STDOUT MB/s": nbytes / 1e6 / out_s, "COPY FROM STDIN MB/s": nbytes / 1e6 / in_s}

        self.interleaved(row, measure)

    def pool_counters(self) -> tuple[float, float]:
        """(accepted, pooled) client connections of the ours+pool proxy, from its /metrics."""
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.pool_metrics}/metrics", timeout=10) as r:
            text = r.read().decode()
        def sample(name: str) -> float:
            m = re.search(rf"^dbproxy_local_connections_{name}_total\{{[^}}]*\}} ([\d.e+]+)$", text, re.M)
            if not m:
                raise Failure(f"no dbproxy_local_connections_{name}_total in the proxy's /metrics")
            return float(m.group(1))
        return sample("accepted"), sample("pooled")

    def row_connections(self, row: str) -> None:
        def measure(way: str) -> dict[str, float]:
            before = self.pool_counters() if way == POOL else None
            four = self.pgbench(way, ["-C", "-c", "4", "-j", "2"], self.mode.t_conn, None)
            one = self.pgbench(way, ["-C", "-c", "1"], self.mode.t_conn1, None)
            paced = self.pgbench(way, ["-C", "-c", "1", "-R", str(PACED_RATE)], self.mode.t_conn1, None)
            values = {"connections/s": four["tps"], "latency average ms": four["latency average ms"],
                      "-c 1: connect + SELECT ms": one["latency average ms"],
                      f"-c 1 at {PACED_RATE}/s: connection set-up ms": paced["connection time ms"]}
            if before:
                accepted, pooled = (a - b for a, b in zip(self.pool_counters(), before))
                values["% of connections from the pool"] = 100 * pooled / accepted if accepted else 0.0
            return values

        ways = ("direct", "ours", POOL, "peer") if POOL in self.ways else WAYS
        self.interleaved(row, measure, ways=ways)
        # Row 4p compares ours with the warm pool to the same runs of direct and peer.
        if POOL in self.ways:
            for metric, by_way in self.results.get(row, {}).items():
                for way in ("direct", "peer"):
                    if way in by_way:
                        self.results.setdefault(row + "p", {}).setdefault(metric, {})[way] = by_way[way]

    def row_cliff(self, row: str) -> None:
        """No throughput cliff: pgbench -S at each client count, one after the other for each way;
        the last metric is TPS at the most clients over the best TPS of the run (1.0 = no fall)."""
        def measure(way: str) -> dict[str, float]:
            values = {}
            for clients in CLIFF_CLIENTS:
                got = self.pgbench(way, ["-c", str(clients), "-j", str(min(2, clients))], self.mode.t_cliff, None)
                values[f"tps at -c {clients}"] = got["tps"]
            values[f"tps at -c {CLIFF_CLIENTS[-1]} / best tps"] = values[f"tps at -c {CLIFF_CLIENTS[-1]}"] / max(values.values())
            return values

        runs, self.mode.runs = self.mode.runs, self.mode.cliff_runs
        try:
            self.interleaved(row, measure)
        finally:
            self.mode.runs = runs

    def row_mariadb(self, row: str) -> None:
        q = self.mode.slap_queries

        def measure(way: str) -> dict[str, float]:
            out, _ = run(["mariadb-slap", *self.my_args(way), "--create-schema=appdb", "--concurrency=8",
                          "--iterations=1", f"--number-of-queries={q}", "--query=SELECT 1"], what=f"mariadb-slap ({way})")
            seconds = re.search(r"Average number of seconds to run all queries: ([\d.]+)", out)
            if not seconds or float(seconds.group(1)) <= 0:
                raise Failure(f"no timing in mariadb-slap's output: {out[-300:]!r}")
            client = ["mariadb", *self.my_args(way), "--max-allowed-packet=256M", "appdb"]
            with open(self.work / "blob.sql", "rb") as f:
                _, insert_s = run(client, stdin=f, what=f"mariadb BLOB insert ({way})")
            started = time.monotonic()
            r = subprocess.run(client + ["-N", "-B", "--raw", "-e", "SELECT b FROM dbproxy_bench_blob WHERE id = 1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=300)
            select_s = time.monotonic() - started
            if r.returncode != 0:
                raise Failure(f"mariadb BLOB select ({way}): {r.stderr.decode(errors='replace').strip()}")
            if hashlib.md5(r.stdout[:16 * 1024 * 1024]).hexdigest() != self.blob_md5:
                raise Failure(f"the BLOB read back through {way} differs from the one written ({len(r.stdout)} bytes)")
            return {"mariadb-slap queries/s": q / float(seconds.group(1)), "BLOB insert + select s": insert_s + select_s,
                    "BLOB insert s": insert_s, "BLOB select s": select_s}

        self.interleaved(row, measure)

    def row_mongo(self, row: str) -> None:
        m = self.mode
        tool = [sys.executable, str(HERE / "mongo_workload.py")]
        run(tool + ["prepare", "--uri", self.mongo_uri("direct"), "--docs", str(m.mongo_docs)], timeout=600,
            what="mongo_workload.py prepare")

        def measure(way: str) -> dict[str, float]:
            out, _ = run(tool + ["findone", "--uri", self.mongo_uri(way), "--count", str(m.mongo_finds)], timeout=300,
                         what=f"pymongo find_one ({way})")
            finds = json.loads(out.strip().splitlines()[-1])
            out, _ = run(tool + ["cursor", "--uri", self.mongo_uri(way)], timeout=300, what=f"pymongo cursor ({way})")
            cursor = json.loads(out.strip().splitlines()[-1])
            if cursor["operations"] != m.mongo_docs:
                raise Failure(f"the cursor through {way} returned {cursor['operations']} documents, not {m.mongo_docs}")
            return {"find_one round trips/s": m.mongo_finds / finds["seconds"],
                    "find_one latency ms": finds["seconds"] / m.mongo_finds * 1000,
                    "cursor read MB/s": cursor["bytes"] / 1e6 / cursor["seconds"]}

        try:
            self.interleaved(row, measure)
        finally:
            try:
                run(tool + ["drop", "--uri", self.mongo_uri("direct")], timeout=60, what="mongo_workload.py drop")
            except Failure:
                pass

    def row_idle(self, row: str) -> None:
        n = self.mode.idle
        stub_port = free_port()
        stub = self.procs.start("pg-stub", [sys.executable, str(HERE / "pg_stub_server.py"), "--port", str(stub_port)])
        self.procs.wait_for_line(stub, "listening")

        def hold(port: int, count: int):
            p = self.procs.start("idle-clients", [sys.executable, str(HERE / "pg_idle_clients.py"), "--port", str(port),
                                                  "--count", str(count)], stdin=subprocess.PIPE)
            self.procs.wait_for_line(p, "ready", seconds=300)
            return p

        def release(p) -> None:
            p.stdin.close()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            self.procs.stop(p)

        def measure(way: str) -> dict[str, float]:
            ep = self.start_way(way, f"idle{way}", {"pg": ("127.0.0.1", stub_port)})
            try:
                release(hold(ep.ports['pg'], 5))  # warm-up: first connections, lazy initialisation
                time.sleep(0.5)
                base = {role: rss_bytes(pid) for role, pid in ep.pids.items()}
                clients = hold(ep.ports['pg'], n)
                time.sleep(1.0)
                loaded = {role: rss_bytes(pid) for role, pid in ep.pids.items()}
                fds = {role: open_fds(pid) for role, pid in ep.pids.items()}
                release(clients)
            finally:
                for pid in ep.pids.values():
                    for name, p in list(self.procs.running):
                        if p.pid == pid:
                            self.procs.stop(p)
            log(f"    {way}: open descriptors with {n} connections: local {fds['local']}, router {fds['router']}")
            per = {role: (loaded[role] - base[role]) / n for role in ("local", "router")}
            return {"local process bytes/conn": per["local"], "router process bytes/conn": per["router"],
                    "both bytes/conn": per["local"] + per["router"],
                    f"local process RSS MiB at {n}": loaded["local"] / 2**20,
                    f"router process RSS MiB at {n}": loaded["router"] / 2**20}

        try:
            self.interleaved(row, measure, ways=("ours", "peer"))
        finally:
            self.procs.stop(stub)


# ---------------------------------------------------------------- report

def fmt(v: float) -> str:
    a = abs(v)
    if a >= 10000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def cell(values: list[float] | None) -> str:
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(values))}–{fmt(max(values))})"


def ratio(a: list[float] | None, b: list[float] | None) -> str:
    if not a or not b or statistics.median(b) == 0:
        return "—"
    return f"{statistics.median(a) / statistics.median(b):.2f}"


def better(metric: str) -> str:
    return "↑" if metric.endswith("/s") or metric.startswith("tps") or metric.startswith("%") else "↓"


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    return {"cores": str(os.cpu_count()), "cpu": cpu, "memory": mem, "kernel": platform.release()}


def versions(bench: Bench) -> dict[str, str]:
    def first_line(argv, pattern=None):
        try:
            out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30).stdout.decode()
        except Exception as e:
            return f"unknown ({e})"
        line = out.strip().splitlines()[0] if out.strip() else "unknown"
        if pattern:
            m = re.search(pattern, line)
            return m.group(0) if m else line
        return line

    def query(argv):
        try:
            return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30).stdout.decode().strip()
        except Exception:
            return "unknown"

    return {
        "dbproxy": bench.args.dbproxy_desc,
        "HAProxy": first_line(["haproxy", "-v"], r"(?<=HAProxy version )\S+"),
        "PostgreSQL": query(["psql", "-X", "-Atc", "SHOW server_version", bench.pg_uri("direct")]) + " (pgbench "
                      + first_line(["pgbench", "--version"], r"[\d.]+") + ")",
        "MariaDB": query(["mariadb", *bench.my_args("direct"), "-N", "-B", "-e", "SELECT @@version"]) + " (client "
                   + first_line(["mariadb", "--version"], r"Distrib [\d.]+-MariaDB").replace("Distrib ", "") + ")",
        "Python": platform.python_version(),
    } | ({"MongoDB": (f"wire-protocol test server of Tests/Fixtures/mongo (Python, mongomock; says {bench.mongo_version})"
                      if bench.mongo_kind == "wire-test-server" else f"{bench.mongo_version} ({bench.mongo_kind})")}
         if bench.want_mongo and bench.mongo_version else {})


ROW_TITLES = {
    "1": "1 · pgbench -S -c 8 -j 2 -T {t_tps}",
    "2": "2 · pgbench -S -c 1 -T {t_lat}",
    "3": "3 · COPY {copy_rows:,} rows × 1,001 B ({copy_mb:,.0f} MB) each way",
    "4": "4 · pgbench -C -S -c 4 -j 2 -T {t_conn}; -C -S -c 1 -T {t_conn1}, also paced at -R " + str(PACED_RATE),
    "4p": "4p · row 4 with ours as `dbproxy proxy --warm-pool {warm_pool}` (direct and peer: row 4's runs)",
    "5": "5 · mariadb-slap -c 8, {slap_queries:,} × SELECT 1; 16 MiB BLOB via mariadb",
    "6": "6 · pymongo: {mongo_finds:,} find_one; a cursor over {mongo_docs:,} documents ({mongo_mb:,.0f} MB)",
    "7": "7 · {idle:,} idle PostgreSQL connections (RSS growth)",
    "3cpu": "7 · CPU seconds per GB moved in row 3 (out + in)",
    "8": "8 · no cliff: pgbench -S -j 2 -T {t_cliff} at -c 1, 8, 64, 256 ({cliff_runs} run{cliff_plural})",
}
ROW_ORDER = ["1", "2", "3", "4", "4p", "5", "6", "7", "3cpu", "8"]


def report(bench: Bench, started: datetime.datetime, seconds: float, command: str) -> str:
    m = bench.mode
    params = dict(vars(m), cliff_plural="" if m.cliff_runs == 1 else "s", copy_mb=m.copy_rows * 1001 / 1e6, mongo_mb=m.mongo_docs * 984 / 1e6, warm_pool=WARM_POOL)
    mach = machine()
    vers = versions(bench)
    out = [
        f"Command: `{command}` ({m.name} mode: {m.runs} runs per way, interleaved direct, ours, peer, direct, ...)  ",
        f"Date: {started.strftime('%Y-%m-%d %H:%M UTC')}, {seconds / 60:.1f} minutes  ",
        f"Machine: {mach['cores']} cores, {mach['cpu']}, {mach['memory']}, Linux {mach['kernel']}  ",
        "Versions: " + "; ".join(f"{k} {v}" for k, v in vers.items()),
        "",
        "Each cell: median (min–max) over the runs. Ratios are of medians; ↑ higher is better, ↓ lower is better. "
        "MB = 10⁶ bytes, GB = 10⁹ bytes. *local* is `dbproxy proxy` or the local HAProxy, *router* is "
        "`dbproxy serve` or the router HAProxy. Load is /proc/loadavg (1 min) before → after the row.",
        "",
        "| Row | Measure | | direct | ours | peer | ours/direct | ours/peer | load |",
        "|---|---|:-:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in ROW_ORDER:
        if row not in bench.results and row not in bench.errors:
            continue
        title = ROW_TITLES[row].format(**params)
        load = "→".join(bench.load.get("3" if row == "3cpu" else row, ()))
        metrics = bench.results.get(row, {})
        if not metrics:
            out.append(f"| {title} | **not measured** | | | | | | | {load} |")
        for i, (metric, by_way) in enumerate(metrics.items()):
            out.append("| " + " | ".join([
                title if i == 0 else "", metric, better(metric),
                cell(by_way.get("direct")), cell(by_way.get("ours")), cell(by_way.get("peer")),
                ratio(by_way.get("ours"), by_way.get("direct")), ratio(by_way.get("ours"), by_way.get("peer")),
                load if i == 0 else ""]) + " |")
    loads = [float(v) for pair in bench.load.values() for v in pair]
    out.append("")
    cores = os.cpu_count() or 1
    if loads and max(loads) > 0.5 * cores:
        out.append(f"The machine was shared with other work during this run (load average up to {max(loads):.1f} on "
                   f"{cores} cores around a row): absolute figures are low and noisy; the ratios of one run compare "
                   "the three ways under the same load.")
        out.append("")
    out += [
        "How each row is measured:",
        "",
        "- All clients connect without TLS to their first hop (`sslmode=disable`, `--skip-ssl`): ours answers "
        "SSLRequest itself, HAProxy would pass it on and the client would run TLS to the database inside the tunnel. "
        "Both chains carry every byte in mutual TLS between their two processes, with the same certificates (ECDSA P-256 "
        "from `dbproxy certs init`); ours negotiates the `-ping` ALPN variants (ping framing), HAProxy the plain ones "
        "(`teleport-postgres` ...). dbproxy runs with its defaults (log level info: the router writes a line per connection, "
        "here to a file); HAProxy with no `log` line, so it logs nothing. Both local processes dial the router by IP address "
        "(127.0.0.1) and send the server name localhost, against which they check the router's certificate.",
        f"- 1, 2: pgbench against a `benchdb` database (scale {m.scale}, in shared buffers), `-n`; TPS and average "
        "latency from pgbench's summary, p99 from its per-transaction log (`--log`, every 5th transaction in row 1).",
        "- 3: `psql -c \"COPY (SELECT repeat('x',1000) FROM generate_series(1,N)) TO STDOUT\" -o /dev/null` and "
        "`COPY ... FROM STDIN` of the same bytes into a temporary table; seconds are the psql process's wall time "
        "(connection included).",
        "- 4: pgbench `-C` opens a connection per transaction: connections/s is its TPS; `-c 1` gives the time of one "
        "connection set-up plus one SELECT, back to back; paced at -R " + str(PACED_RATE) + " (one connection every "
        f"{1000 // PACED_RATE} ms on average), pgbench's average connection time is the set-up alone, with the "
        "proxies idle in between (a pool has refilled). 4p: a second `dbproxy serve` + `dbproxy proxy --warm-pool "
        f"{WARM_POOL}` pair (pre-handshaken router connections, refilled in the background), measured in the same "
        "interleaved runs as row 4 (direct, ours, ours+pool, peer); its direct and peer cells are row 4's.",
        "- 5: `mariadb-slap --concurrency=8 --number-of-queries=Q --query='SELECT 1'` (queries/s = Q / its time); the "
        "BLOB is 16 MiB of random bytes sent as one 32 MiB hex literal (`REPLACE INTO`) and read back with "
        "`mariadb --raw` (checked by MD5); seconds are the two client processes' wall time.",
        "- 6: `Benchmarks/mongo_workload.py` (pymongo, alice with SCRAM, `directConnection=true`): find_one by _id "
        "on a 100-document collection, one at a time; then one cursor (batch size 10,000) over documents of ~984 "
        "bytes; times exclude the login." + (" The server here is the Python wire-protocol test server (no mongod "
        "without Docker): it bounds these figures, so they show little of the proxies." if bench.mongo_kind ==
        "wire-test-server" else ""),
        "- 7: fresh proxy processes per run; `Benchmarks/pg_idle_clients.py` opens the connections (raw StartupMessage "
        "for trustuser, held after ReadyForQuery) against `Benchmarks/pg_stub_server.py` (a login-only PostgreSQL "
        "stub: the dev PostgreSQL allows 300 connections). Bytes/conn = (RSS with N − RSS after a 5-connection "
        "warm-up) / N. CPU per GB: utime + stime from /proc/PID/stat around row 3's COPYs, over 2 × its bytes.",
        "- 8: `pgbench -n -S -j 2` (`-j 1` at `-c 1`) at 1, 8, 64 and 256 clients one after the other through each way "
        "(PostgreSQL's max_connections is 300); TPS excludes connection set-up (pgbench's own figure). The last line "
        "is TPS at 256 clients over the best TPS of the same run: a fall through ours no larger than direct's means "
        "no cliff of the proxy's own. A failed transaction or connection is listed under the table.",
    ]
    if bench.errors:
        out += ["", "Problems in this run:", ""]
        for row, errs in bench.errors.items():
            for e in errs:
                out.append(f"- row {row}: " + e.replace("\n", " ").strip()[:500])
    return "\n".join(out) + "\n"


def write_benchmarks_md(path: Path, section: str) -> None:
    block = f"{MARK_BEGIN}\n{section}{MARK_END}\n"
    if path.exists():
        text = path.read_text()
        if MARK_BEGIN in text and MARK_END in text:
            head, rest = text.split(MARK_BEGIN, 1)
            tail = rest.split(MARK_END, 1)[1].lstrip("\n")
            path.write_text(head + block + ("\n" + tail if tail else ""))
            return
        path.write_text(text.rstrip("\n") + "\n\n" + block)
        return
    path.write_text("# Benchmarks\n\n" + block)


def dev_db_env() -> dict[str, str]:
    out = subprocess.run([str(REPO / "scripts/dev-db"), "env"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
    env = {}
    for m in re.finditer(r"(\w+)=(\S+)", out):
        env[m.group(1)] = m.group(2)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", action="store_true", help="write BENCHMARKS.md in quick mode too")
    parser.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md in full mode")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--idle", type=int, help="idle connections in row 7")
    parser.add_argument("--rows", help="comma-separated subset, e.g. 1,3,7")
    parser.add_argument("--work", required=True)
    parser.add_argument("--dbproxy", required=True)
    parser.add_argument("--dbproxy-desc", default="")
    parser.add_argument("--command", default="scripts/bench")
    parser.add_argument("--output", default=str(REPO / "BENCHMARKS.md"))
    args = parser.parse_args()
    mode = QUICK if args.quick else FULL
    if args.runs:
        mode.runs = args.runs
    if args.idle:
        mode.idle = args.idle
    only = set(args.rows.split(",")) if args.rows else None

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    started_at = datetime.datetime.now(datetime.timezone.utc)
    started = time.monotonic()
    bench = Bench(args, mode, only)
    try:
        try:
            bench.setup()
        except Failure as e:
            log(f"set-up failed, nothing measured: {e}")
            print(f"scripts/bench: nothing measured: the set-up failed: {e}", file=sys.stderr)
            return 1
        bench.run_rows(only)
        text = report(bench, started_at, time.monotonic() - started, args.command)
    except KeyboardInterrupt:
        log("interrupted; stopping everything")
        return 130
    finally:
        bench.cleanup()
    print(text, end="")
    if (not args.quick and not args.no_write) or args.write:
        write_benchmarks_md(Path(args.output), text)
        log(f"wrote {args.output}")
    wanted = [r for r, _, _ in bench.rows() if not only or r in only]
    missing = []
    for row in wanted:
        ways = ("ours", "peer") if row == "7" else WAYS
        got = bench.results.get(row, {})
        lacking = [w for w in ways if not any(by_way.get(w) for by_way in got.values())]
        if lacking:
            reason = "; ".join(bench.errors.get(row, ["no value"]))[:400]
            missing.append(f"row {row} ({', '.join(lacking)}): {reason}")
    log(f"done in {(time.monotonic() - started) / 60:.1f} minutes")
    if missing:
        for m in missing:
            print(f"scripts/bench: not measured: {m}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
