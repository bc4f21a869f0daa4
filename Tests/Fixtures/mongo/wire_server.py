#!/usr/bin/env python3
"""A MongoDB wire-protocol test server: speaks OP_MSG / OP_QUERY / OP_COMPRESSED and
SCRAM-SHA-256 on a TCP port and stores data in one in-memory mongomock client.

It is a stand-in for mongod (which is not packaged for this machine) so that the proxy's
integration tests can push real driver traffic through the proxy. See README.md.

    python3 wire_server.py --port N [--host 127.0.0.1] [--user alice --password alice-pw]
                           [--pidfile F] [--log F] [--verbose]
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import itertools
import logging
import os
import secrets
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import zlib

import bson
import mongomock
import pymongo
from bson.binary import Binary
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument
from mongomock.filtering import filter_applies
from pymongo import ReturnDocument
from pymongo.errors import CollectionInvalid, InvalidName, OperationFailure
from pymongo.saslprep import saslprep

try:  # snappy is optional: only offered when python-snappy happens to be installed
    import snappy
except ImportError:
    snappy = None

log = logging.getLogger("mongo-wire-test-server")

OP_REPLY, OP_QUERY, OP_COMPRESSED, OP_MSG = 1, 2004, 2012, 2013
MAX_MESSAGE_SIZE = 48_000_000
MAX_BSON_SIZE = 16 * 1024 * 1024
MAX_BATCH_BYTES = MAX_BSON_SIZE - 64 * 1024  # leave room for the cursor envelope
DEFAULT_FIRST_BATCH = 101
CURSOR_IDLE_SECONDS = 600
MSG_CHECKSUM_PRESENT, MSG_MORE_TO_COME = 1 << 0, 1 << 1  # exhaustAllowed (1 << 16) is ignored
SCRAM_ITERATIONS = 15000
WIRE_VERSION = 17  # MongoDB 6.0

# ids: 0 noop, 1 snappy, 2 zlib, 3 zstd (unsupported); the names below are advertised in hello
SUPPORTED_COMPRESSORS = ["zlib"] + (["snappy"] if snappy else [])

CODEC_OPTIONS = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_AUTO)

CODE_NAMES = {
    1: "InternalError", 2: "BadValue", 9: "FailedToParse", 13: "Unauthorized",
    14: "TypeMismatch", 17: "ProtocolError", 18: "AuthenticationFailed",
    26: "NamespaceNotFound", 27: "IndexNotFound", 43: "CursorNotFound",
    48: "NamespaceExists", 59: "CommandNotFound", 73: "InvalidNamespace",
    115: "CommandNotSupported", 334: "MechanismUnavailable", 11000: "DuplicateKey",
}


class ProtocolError(Exception):
    """A malformed message: the connection it came on is closed."""


class CommandError(Exception):
    def __init__(self, code, errmsg):
        super().__init__(errmsg)
        self.code, self.errmsg = code, errmsg


def error_doc(code, errmsg):
    return {"ok": 0.0, "errmsg": errmsg, "code": code,
            "codeName": CODE_NAMES.get(code, f"Location{code}")}


# ---------------------------------------------------------------- CRC-32C (Castagnoli)
def _crc32c_table():
    table = []
    for n in range(256):
        for _ in range(8):
            n = (n >> 1) ^ 0x82F63B78 if n & 1 else n >> 1
        table.append(n)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    crc, table = 0xFFFFFFFF, CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# ---------------------------------------------------------------- compression
def decompress(compressor_id, data, size):
    if compressor_id == 0:
        return data
    if compressor_id == 2:  # bounded, so a zlib bomb cannot exhaust memory
        return zlib.decompressobj().decompress(data, size + 1)
    if compressor_id == 1 and snappy:
        return snappy.uncompress(data)
    raise CommandError(2, f"unsupported compressor id {compressor_id}")


def compress(compressor_id, data):
    if compressor_id == 2:
        return zlib.compress(data)
    if compressor_id == 1:
        return snappy.compress(data)
    return data


# ---------------------------------------------------------------- SCRAM-SHA-256
def _hmac(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


class ScramUser:
    """The stored credential of one user, as mongod keeps it (salt, StoredKey, ServerKey)."""

    def __init__(self, db, name, password, iterations=SCRAM_ITERATIONS):
        self.db, self.name, self.iterations = db, name, iterations
        self.salt = os.urandom(28)
        salted = hashlib.pbkdf2_hmac("sha256", saslprep(password).encode(), self.salt, iterations)
        self.stored_key = hashlib.sha256(_hmac(salted, b"Client Key")).digest()
        self.server_key = _hmac(salted, b"Server Key")


def parse_scram_attrs(message):
    attrs = {}
    for part in message.split(b","):
        key, sep, value = part.partition(b"=")
        if not sep or len(key) != 1:
            raise ValueError("bad SCRAM attribute")
        attrs[key] = value
    return attrs


# ---------------------------------------------------------------- server state
class Server:
    def __init__(self, args):
        self.client = mongomock.MongoClient()
        self.lock = threading.Lock()  # guards self.client and self.cursors
        self.cursors = {}  # id -> Cursor
        self.user = ScramUser(args.auth_db, args.user, args.password) if args.user else None
        self.request_ids = itertools.count(1)
        self.connection_ids = itertools.count(1)


class Cursor:
    def __init__(self, ns, docs):
        self.ns, self.docs, self.pos, self.touched = ns, docs, 0, time.monotonic()

    def take(self, limit):
        """The next batch: at most `limit` documents (None: any) and about 16 MiB."""
        batch, size = [], 0
        while self.pos < len(self.docs) and (limit is None or len(batch) < limit):
            raw = bson.encode(self.docs[self.pos], codec_options=CODEC_OPTIONS)
            if batch and size + len(raw) > MAX_BATCH_BYTES:
                break
            batch.append(RawBSONDocument(raw))
            size += len(raw)
            self.pos += 1
        self.touched = time.monotonic()
        return batch

    @property
    def exhausted(self):
        return self.pos >= len(self.docs)


# ---------------------------------------------------------------- one client connection
class Connection:
    def __init__(self, server, sock, peer):
        self.server, self.sock, self.peer = server, sock, peer
        self.id = next(server.connection_ids)
        self.authenticated = server.user is None
        self.conversations = {}  # SASL conversationId -> state
        self.conversation_ids = itertools.count(1)
        self.rfile = sock.makefile("rb")

    # -- framing
    def read_exact(self, n):
        data = self.rfile.read(n)
        if len(data) != n:
            raise EOFError
        return data

    def run(self):
        log.info("conn%d: accepted from %s:%d", self.id, *self.peer[:2])
        try:
            while True:
                first = self.rfile.read(16)
                if not first:
                    break  # clean EOF between messages
                if len(first) != 16:
                    raise ProtocolError("truncated header")
                length, request_id, _, opcode = struct.unpack("<iiii", first)
                if length < 16 or length > MAX_MESSAGE_SIZE:
                    raise ProtocolError(f"bad messageLength {length}")
                body = self.read_exact(length - 16)
                reply = self.handle(opcode, request_id, first, body)
                if reply is not None:
                    self.sock.sendall(reply)
        except EOFError:
            log.info("conn%d: client closed mid-message", self.id)
        except ProtocolError as e:
            log.warning("conn%d: closing connection: %s", self.id, e)
        except OSError as e:
            log.info("conn%d: socket error: %s", self.id, e)
        except Exception:
            log.exception("conn%d: closing connection after malformed message", self.id)
        finally:
            self.rfile.close()  # the socket really closes only once its file does
            self.sock.close()
            log.info("conn%d: closed", self.id)

    def frame(self, opcode, response_to, payload, compressor_id=None):
        if compressor_id is not None:
            packed = compress(compressor_id, payload)
            payload = struct.pack("<iiB", opcode, len(payload), compressor_id) + packed
            opcode = OP_COMPRESSED
        header = struct.pack("<iiii", 16 + len(payload), next(self.server.request_ids),
                             response_to, opcode)
        return header + payload

    @staticmethod
    def reply_payload(opcode, doc):
        if opcode == OP_QUERY:  # OP_REPLY: flags, cursorID, startingFrom, numberReturned
            return OP_REPLY, struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(doc)
        return OP_MSG, struct.pack("<IB", 0, 0) + bson.encode(doc)

    def handle(self, opcode, request_id, header, body, compressor_id=None):
        if opcode == OP_COMPRESSED:
            if compressor_id is not None or len(body) < 9:
                raise ProtocolError("bad OP_COMPRESSED")
            original, size, cid = struct.unpack_from("<iiB", body)
            if not 0 <= size <= MAX_MESSAGE_SIZE - 16:
                raise ProtocolError(f"bad uncompressedSize {size}")
            try:
                inner = decompress(cid, body[9:], size)
            except CommandError as e:  # unknown compressor: answer uncompressed, keep going
                reply_opcode, payload = self.reply_payload(original, error_doc(e.code, e.errmsg))
                return self.frame(reply_opcode, request_id, payload)
            except zlib.error as e:
                raise ProtocolError(f"cannot decompress: {e}")
            log.debug("conn%d: OP_COMPRESSED, compressor %d, %d -> %d bytes",
                      self.id, cid, len(body) - 9, size)
            if len(inner) != size:
                raise ProtocolError("uncompressedSize mismatch")
            inner_header = struct.pack("<iiii", 16 + size, request_id,
                                       struct.unpack_from("<i", header, 8)[0], original)
            return self.handle(original, request_id, inner_header, inner, cid)
        if opcode == OP_MSG:
            flags, doc = self.parse_op_msg(header, body)
            reply = self.dispatch(doc)
            if flags & MSG_MORE_TO_COME:
                return None
        elif opcode == OP_QUERY:
            reply = self.dispatch_query(body)
        else:
            raise ProtocolError(f"unsupported opCode {opcode}")
        reply_opcode, payload = self.reply_payload(opcode, reply)
        return self.frame(reply_opcode, request_id, payload, compressor_id)

    # -- message parsing
    def parse_op_msg(self, header, body):
        if len(body) < 5:
            raise ProtocolError("OP_MSG too short")
        flags = struct.unpack_from("<I", body)[0]
        if flags & 0xFFFF & ~(MSG_CHECKSUM_PRESENT | MSG_MORE_TO_COME):
            raise ProtocolError(f"unknown required OP_MSG flag bits {flags:#x}")
        if flags & MSG_CHECKSUM_PRESENT:
            if len(body) < 9:
                raise ProtocolError("OP_MSG too short for a checksum")
            expected = struct.unpack_from("<I", body, len(body) - 4)[0]
            if crc32c(header + body[:-4]) != expected:
                raise ProtocolError("OP_MSG checksum mismatch")
            body = body[:-4]
        pos, doc, sequences = 4, None, []
        while pos < len(body):
            kind = body[pos]
            pos += 1
            if pos + 4 > len(body):
                raise ProtocolError("truncated section")
            size = struct.unpack_from("<i", body, pos)[0]
            end = pos + size
            if size < 5 or end > len(body):
                raise ProtocolError(f"bad section size {size}")
            if kind == 0:
                if doc is not None:
                    raise ProtocolError("more than one kind-0 section")
                doc = bson.decode(body[pos:end], CODEC_OPTIONS)
            elif kind == 1:
                nul = body.index(b"\0", pos + 4, end)  # ValueError -> connection closed
                identifier = body[pos + 4:nul].decode()
                sequences.append((identifier, bson.decode_all(body[nul + 1:end], CODEC_OPTIONS)))
            else:
                raise ProtocolError(f"unknown section kind {kind}")
            pos = end
        if doc is None:
            raise ProtocolError("OP_MSG without a body section")
        for identifier, docs in sequences:
            if identifier in doc:
                raise ProtocolError(f"duplicate field {identifier!r} in body and sequence")
            doc[identifier] = docs
        return flags, doc

    def dispatch_query(self, body):
        """Legacy OP_QUERY: only commands on <db>.$cmd (the old handshake path)."""
        nul = body.index(b"\0", 4)
        namespace = body[4:nul].decode()
        pos = nul + 1 + 8  # skip numberToSkip, numberToReturn
        size = struct.unpack_from("<i", body, pos)[0]
        query = bson.decode(body[pos:pos + size], CODEC_OPTIONS)
        first = next(iter(query), None)
        if first in ("$query", "query") and isinstance(query[first], dict):
            query = query[first]
        db, _, collection = namespace.partition(".")
        if collection != "$cmd":
            return error_doc(352, f"Unsupported OP_QUERY on {namespace}: only commands")
        query.setdefault("$db", db)
        return self.dispatch(query)

    # -- commands
    def dispatch(self, cmd):
        name = next(iter(cmd), None)
        handler = COMMANDS.get(name)
        if handler is None:
            return error_doc(59, f"no such command: '{name}'")
        db = cmd.get("$db")
        if not isinstance(db, str):
            return error_doc(40571, "OP_MSG requests require a $db argument")
        if not self.authenticated and name not in NO_AUTH_COMMANDS:
            return error_doc(13, f"command {name} requires authentication")
        log.debug("conn%d: %s %s", self.id, db, name)
        try:
            with self.server.lock:
                reply = handler(self, db, cmd)
        except CommandError as e:
            return error_doc(e.code, e.errmsg)
        except OperationFailure as e:
            return error_doc(e.code or 2, str(e))
        except (InvalidName, CollectionInvalid) as e:
            return error_doc(73, str(e))
        except Exception as e:
            log.exception("conn%d: %s failed", self.id, name)
            return error_doc(1, f"{type(e).__name__}: {e}")
        reply["ok"] = 1.0
        return reply

    def collection(self, db, name):
        if not isinstance(name, str) or not name:
            raise CommandError(73, f"Invalid collection name: {name!r}")
        return self.server.client[db][name]

    def open_cursor(self, ns, docs, batch_size, single_batch=False):
        """Register a server-side cursor and answer with its first batch."""
        cursor = Cursor(ns, docs)
        limit = DEFAULT_FIRST_BATCH if batch_size is None else int(batch_size)
        first = cursor.take(limit)
        cursor_id = 0
        if not cursor.exhausted and not single_batch:
            cursors = self.server.cursors
            now = time.monotonic()  # forget abandoned cursors
            for stale in [k for k, c in cursors.items() if now - c.touched > CURSOR_IDLE_SECONDS]:
                del cursors[stale]
            cursor_id = secrets.randbits(62) + 1
            cursors[cursor_id] = cursor
        return {"cursor": {"firstBatch": first, "id": Int64(cursor_id), "ns": ns}}

    def hello(self, db, cmd):
        legacy = next(iter(cmd)) != "hello"
        reply = {"helloOk": True,
                 ("ismaster" if legacy else "isWritablePrimary"): True,
                 "maxBsonObjectSize": MAX_BSON_SIZE, "maxMessageSizeBytes": MAX_MESSAGE_SIZE,
                 "maxWriteBatchSize": 100000,
                 "localTime": datetime.datetime.now(datetime.timezone.utc),
                 "logicalSessionTimeoutMinutes": 30, "connectionId": self.id,
                 "minWireVersion": 0, "maxWireVersion": WIRE_VERSION, "readOnly": False}
        offered = cmd.get("compression")
        if isinstance(offered, list):
            reply["compression"] = [c for c in offered if c in SUPPORTED_COMPRESSORS]
        user = self.server.user
        if user and cmd.get("saslSupportedMechs") == f"{user.db}.{user.name}":
            reply["saslSupportedMechs"] = ["SCRAM-SHA-256"]
        speculative = cmd.get("speculativeAuthenticate")
        if isinstance(speculative, dict) and "saslStart" in speculative:
            try:  # as mongod: a failed speculative attempt is just left out of the reply
                reply["speculativeAuthenticate"] = self.sasl_start(
                    speculative.get("db", db), speculative)
            except CommandError:
                pass
        return reply

    def ping(self, db, cmd):
        return {}

    def build_info(self, db, cmd):
        return {"version": "7.0.0", "versionArray": [7, 0, 0, 0], "gitVersion": "mongomock",
                "bits": 64, "debug": False, "maxBsonObjectSize": MAX_BSON_SIZE,
                "storageEngines": ["mongomock"],
                "modules": [],
                "sysInfo": f"mongo-wire-test-server, mongomock {mongomock.__version__}"}

    def whatsmyuri(self, db, cmd):
        return {"you": f"{self.peer[0]}:{self.peer[1]}"}

    def connection_status(self, db, cmd):
        users = []
        if self.server.user and self.authenticated:
            users = [{"user": self.server.user.name, "db": self.server.user.db}]
        return {"authInfo": {"authenticatedUsers": users, "authenticatedUserRoles": []}}

    # -- SCRAM-SHA-256 (RFC 5802 / RFC 7677)
    def sasl_start(self, db, cmd):
        mechanism = cmd.get("mechanism")
        if mechanism != "SCRAM-SHA-256":
            raise CommandError(334, f"Received authentication for mechanism {mechanism} "
                                    "which is unknown or not enabled")
        user = self.server.user
        try:
            payload = bytes(cmd.get("payload", b""))
            cbind, authzid, bare = payload.split(b",", 2)
            attrs = parse_scram_attrs(bare)
            name = attrs[b"n"].replace(b"=2C", b",").replace(b"=3D", b"=").decode()
            client_nonce = attrs[b"r"]
        except (ValueError, KeyError, TypeError):
            raise CommandError(17, "Invalid SCRAM client-first message")
        if cbind not in (b"n", b"y") or b"m" in attrs:
            raise CommandError(17, "SCRAM channel binding / extensions are not supported")
        if user is None or name != user.name or db != user.db:
            log.info("conn%d: SCRAM for unknown user %s@%s", self.id, name, db)
            raise CommandError(18, "Authentication failed.")
        nonce = client_nonce + base64.b64encode(os.urandom(24))
        server_first = b"r=%s,s=%s,i=%d" % (nonce, base64.b64encode(user.salt), user.iterations)
        conversation_id = next(self.conversation_ids)
        options = cmd.get("options") or {}
        self.conversations[conversation_id] = {
            "gs2": payload[:len(cbind) + len(authzid) + 2], "bare": bare,
            "server_first": server_first, "nonce": nonce, "step": 1,
            "skip_empty": bool(options.get("skipEmptyExchange"))}
        return {"conversationId": conversation_id, "done": False,
                "payload": Binary(server_first)}

    def sasl_continue(self, db, cmd):
        conversation_id = cmd.get("conversationId")
        state = self.conversations.get(conversation_id)
        if state is None:
            raise CommandError(17, "No SASL session state found")
        user = self.server.user
        payload = bytes(cmd.get("payload", b""))
        if state["step"] == 2:  # the final empty exchange of clients without skipEmptyExchange
            del self.conversations[conversation_id]
            self.authenticated = True
            return {"conversationId": conversation_id, "done": True, "payload": Binary(b"")}
        del self.conversations[conversation_id]  # re-added below only if a step remains
        try:
            without_proof, _, proof = payload.rpartition(b",p=")
            attrs = parse_scram_attrs(without_proof)
            proof = base64.b64decode(proof, validate=True)
            ok_binding = base64.b64decode(attrs[b"c"]) == state["gs2"]
            ok_nonce = attrs[b"r"] == state["nonce"]
        except (ValueError, KeyError):
            raise CommandError(18, "Authentication failed.")
        auth_message = b",".join((state["bare"], state["server_first"], without_proof))
        client_signature = _hmac(user.stored_key, auth_message)
        client_key = bytes(a ^ b for a, b in zip(proof, client_signature))
        if not (ok_binding and ok_nonce and len(proof) == len(client_signature)
                and hmac.compare_digest(hashlib.sha256(client_key).digest(), user.stored_key)):
            log.info("conn%d: SCRAM proof rejected for %s", self.id, user.name)
            raise CommandError(18, "Authentication failed.")
        server_signature = base64.b64encode(_hmac(user.server_key, auth_message))
        done = state["skip_empty"]
        if done:
            self.authenticated = True
        else:
            state["step"] = 2
            self.conversations[conversation_id] = state
        log.info("conn%d: authenticated as %s@%s", self.id, user.name, user.db)
        return {"conversationId": conversation_id, "done": done,
                "payload": Binary(b"v=" + server_signature)}

    # -- CRUD
    def insert(self, db, cmd):
        coll = self.collection(db, cmd["insert"])
        n, errors = 0, []
        for index, doc in enumerate(cmd.get("documents") or []):
            try:
                coll.insert_one(doc)
                n += 1
            except Exception as e:
                errors.append(write_error(index, e))
                if cmd.get("ordered", True):
                    break
        return with_write_errors({"n": n}, errors)

    def find(self, db, cmd):
        coll = self.collection(db, cmd["find"])
        limit = int(cmd.get("limit") or 0)
        single = bool(cmd.get("singleBatch")) or limit < 0
        sort = cmd.get("sort")
        store = getattr(coll, "_store", None)  # mongomock 4.3's storage (requirements.txt pins it)
        if not (cmd.get("filter") or cmd.get("projection") or sort or cmd.get("skip") or limit) \
                and store is not None and hasattr(store, "documents"):
            # A whole-collection scan straight from the store. mongomock's own cursor filters and
            # deep-copies every document (14 s for 100,000 of 1 KB), all under the server lock,
            # which stalls every other connection's commands (pymongo's monitor gives up). The
            # batches encode the documents as they are sent, so nothing here mutates them.
            docs = list(store.documents)
            return self.open_cursor(f"{db}.{cmd['find']}", docs, cmd.get("batchSize"), single)
        docs = list(coll.find(cmd.get("filter") or {}, cmd.get("projection") or None,
                              skip=int(cmd.get("skip") or 0), limit=abs(limit),
                              sort=list(sort.items()) if sort else None))
        batch_size = cmd.get("batchSize")
        if limit and (batch_size is None or batch_size > abs(limit)):
            batch_size = abs(limit)
        return self.open_cursor(f"{db}.{cmd['find']}", docs, batch_size, single)

    def get_more(self, db, cmd):
        cursor_id = int(cmd["getMore"])
        cursor = self.server.cursors.get(cursor_id)
        if cursor is None:
            raise CommandError(43, f"cursor id {cursor_id} not found")
        ns = f"{db}.{cmd.get('collection')}"
        if ns != cursor.ns and not cursor.ns.startswith(f"{db}.$cmd"):
            raise CommandError(13, f"Requested getMore on namespace '{ns}', but cursor "
                                   f"belongs to a different namespace {cursor.ns}")
        batch = cursor.take(int(cmd["batchSize"]) if cmd.get("batchSize") else None)
        if cursor.exhausted:
            del self.server.cursors[cursor_id]
            cursor_id = 0
        return {"cursor": {"nextBatch": batch, "id": Int64(cursor_id), "ns": cursor.ns}}

    def kill_cursors(self, db, cmd):
        killed, unknown = [], []
        for cursor_id in cmd.get("cursors") or []:
            found = self.server.cursors.pop(int(cursor_id), None) is not None
            (killed if found else unknown).append(cursor_id)
        return {"cursorsKilled": killed, "cursorsNotFound": unknown,
                "cursorsAlive": [], "cursorsUnknown": []}

    def aggregate(self, db, cmd):
        name = cmd["aggregate"]
        if not isinstance(name, str):
            raise CommandError(115, "database-level aggregate is not supported")
        if cmd.get("explain"):
            raise CommandError(115, "explain is not supported")
        docs = list(self.collection(db, name).aggregate(cmd.get("pipeline") or []))
        return self.open_cursor(f"{db}.{name}", docs, (cmd.get("cursor") or {}).get("batchSize"))

    def update(self, db, cmd):
        coll = self.collection(db, cmd["update"])
        n = modified = 0
        upserted, errors = [], []
        for index, spec in enumerate(cmd.get("updates") or []):
            query, change, upsert = spec.get("q") or {}, spec.get("u"), bool(spec.get("upsert"))
            try:
                if isinstance(change, dict) and not any(k.startswith("$") for k in change):
                    if spec.get("multi"):
                        raise CommandError(9, "multi update is not supported for "
                                              "replacement-style update")
                    result = coll.replace_one(query, change, upsert=upsert)
                elif spec.get("multi"):
                    result = coll.update_many(query, change, upsert=upsert,
                                              array_filters=spec.get("arrayFilters"))
                else:
                    result = coll.update_one(query, change, upsert=upsert,
                                             array_filters=spec.get("arrayFilters"))
            except Exception as e:
                errors.append(write_error(index, e))
                if cmd.get("ordered", True):
                    break
                continue
            if result.upserted_id is not None:
                upserted.append({"index": index, "_id": result.upserted_id})
                n += 1
            else:
                n += result.matched_count
                modified += result.modified_count
        reply = {"n": n, "nModified": modified}
        if upserted:
            reply["upserted"] = upserted
        return with_write_errors(reply, errors)

    def delete(self, db, cmd):
        coll = self.collection(db, cmd["delete"])
        n, errors = 0, []
        for index, spec in enumerate(cmd.get("deletes") or []):
            try:
                query = spec.get("q") or {}
                one = spec.get("limit", 0) == 1
                n += (coll.delete_one(query) if one else coll.delete_many(query)).deleted_count
            except Exception as e:
                errors.append(write_error(index, e))
                if cmd.get("ordered", True):
                    break
        return with_write_errors({"n": n}, errors)

    def find_and_modify(self, db, cmd):
        coll = self.collection(db, cmd["findAndModify"])
        query, change = cmd.get("query") or {}, cmd.get("update")
        sort = list(cmd["sort"].items()) if cmd.get("sort") else None
        fields = cmd.get("fields") or None
        if cmd.get("remove"):
            value = coll.find_one_and_delete(query, projection=fields, sort=sort)
            return {"lastErrorObject": {"n": int(value is not None)}, "value": value}
        existed = coll.find_one(query, sort=sort) is not None
        replace = isinstance(change, dict) and not any(k.startswith("$") for k in change)
        method = coll.find_one_and_replace if replace else coll.find_one_and_update
        value = method(query, change, projection=fields, sort=sort,
                       upsert=bool(cmd.get("upsert")),
                       return_document=ReturnDocument.AFTER if cmd.get("new") else
                       ReturnDocument.BEFORE)
        upserted = not existed and bool(cmd.get("upsert"))
        last_error = {"n": int(existed or upserted), "updatedExisting": existed}
        if upserted and value is not None:
            last_error["upserted"] = value.get("_id")
        return {"lastErrorObject": last_error, "value": value}

    def count(self, db, cmd):
        options = {k: int(cmd[k]) for k in ("skip", "limit") if cmd.get(k)}
        return {"n": self.collection(db, cmd["count"]).count_documents(cmd.get("query") or {},
                                                                        **options)}

    def distinct(self, db, cmd):
        coll = self.collection(db, cmd["distinct"])
        return {"values": coll.distinct(cmd["key"], cmd.get("query") or None)}

    # -- databases, collections, indexes
    def create(self, db, cmd):
        name = cmd["create"]
        if name in self.server.client[db].list_collection_names():
            raise CommandError(48, f"Collection {db}.{name} already exists.")
        self.server.client[db].create_collection(name)
        return {}

    def drop(self, db, cmd):
        self.server.client[db].drop_collection(cmd["drop"])
        return {"ns": f"{db}.{cmd['drop']}"}

    def drop_database(self, db, cmd):
        self.server.client.drop_database(db)
        return {"dropped": db}

    def list_databases(self, db, cmd):
        entries = [{"name": name, "sizeOnDisk": 0, "empty": False}
                   for name in sorted(set(self.server.client.list_database_names()) | {"admin"})]
        entries = [e for e in entries if filter_applies(cmd.get("filter") or {}, e)]
        if cmd.get("nameOnly"):
            return {"databases": [{"name": e["name"]} for e in entries]}
        return {"databases": entries, "totalSize": 0}

    def list_collections(self, db, cmd):
        entries = [{"name": name, "type": "collection", "options": {},
                    "info": {"readOnly": False},
                    "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"}}
                   for name in sorted(self.server.client[db].list_collection_names())]
        entries = [e for e in entries if filter_applies(cmd.get("filter") or {}, e)]
        if cmd.get("nameOnly"):
            entries = [{"name": e["name"], "type": e["type"]} for e in entries]
        return self.open_cursor(f"{db}.$cmd.listCollections", entries,
                                (cmd.get("cursor") or {}).get("batchSize"))

    def create_indexes(self, db, cmd):
        coll = self.collection(db, cmd["createIndexes"])
        before = len(coll.index_information())
        for spec in cmd.get("indexes") or []:
            options = {k: v for k, v in spec.items() if k in INDEX_OPTIONS}
            coll.create_index(list(spec["key"].items()), name=spec["name"], **options)
        return {"numIndexesBefore": before, "numIndexesAfter": len(coll.index_information()),
                "createdCollectionAutomatically": False}

    def list_indexes(self, db, cmd):
        coll = self.collection(db, cmd["listIndexes"])
        entries = []
        for name, info in coll.index_information().items():
            entry = {"v": 2, "key": dict(info["key"]), "name": name}
            entry.update({k: v for k, v in info.items() if k not in ("key", "v")})
            entries.append(entry)
        return self.open_cursor(f"{db}.{cmd['listIndexes']}", entries,
                                (cmd.get("cursor") or {}).get("batchSize"))

    def drop_indexes(self, db, cmd):
        coll = self.collection(db, cmd["dropIndexes"])
        before, index = len(coll.index_information()), cmd.get("index")
        if index == "*":
            coll.drop_indexes()
        else:
            coll.drop_index(list(index.items()) if isinstance(index, dict) else index)
        return {"nIndexesWas": before}

    def end_sessions(self, db, cmd):
        return {}


def write_error(index, exc):
    code = exc.code if isinstance(exc, (OperationFailure, CommandError)) and exc.code else 2
    errmsg = exc.errmsg if isinstance(exc, CommandError) else str(exc)
    return {"index": index, "code": code, "errmsg": errmsg}


def with_write_errors(reply, errors):
    if errors:
        reply["writeErrors"] = errors
    return reply


C = Connection
COMMANDS = {
    "hello": C.hello, "isMaster": C.hello, "ismaster": C.hello, "ping": C.ping,
    "buildInfo": C.build_info, "buildinfo": C.build_info, "whatsmyuri": C.whatsmyuri,
    "connectionStatus": C.connection_status, "endSessions": C.end_sessions,
    "saslStart": C.sasl_start,
    "saslContinue": C.sasl_continue,
    "insert": C.insert, "find": C.find, "getMore": C.get_more, "killCursors": C.kill_cursors,
    "aggregate": C.aggregate, "update": C.update, "delete": C.delete,
    "findAndModify": C.find_and_modify, "count": C.count, "distinct": C.distinct,
    "create": C.create, "drop": C.drop, "dropDatabase": C.drop_database,
    "listDatabases": C.list_databases, "listCollections": C.list_collections,
    "createIndexes": C.create_indexes, "listIndexes": C.list_indexes,
    "dropIndexes": C.drop_indexes,
}
INDEX_OPTIONS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")
NO_AUTH_COMMANDS = {"hello", "isMaster", "ismaster", "ping", "buildInfo", "buildinfo",
                    "saslStart", "saslContinue", "endSessions"}


# ---------------------------------------------------------------- main
class Shutdown(Exception):
    pass


def serve_connection(server, sock, peer, tls):
    """Runs one connection; with TLS configured, a first byte of 0x16 (a TLS handshake record)
    makes it a TLS connection."""
    if tls is not None:
        try:
            sock.settimeout(15)
            first = sock.recv(1, socket.MSG_PEEK)
            if first == b"\x16":
                sock = tls.wrap_socket(sock, server_side=True)
            sock.settimeout(None)
        except (OSError, ssl.SSLError) as error:
            log.info("TLS handshake with %s:%d failed: %s", peer[0], peer[1], error)
            sock.close()
            return
    connection = Connection(server, sock, peer)
    threading.current_thread().name = f"conn{connection.id}"
    connection.run()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--auth-db", default="admin", help="database the user is defined in")
    parser.add_argument("--pidfile")
    parser.add_argument("--log", help="log file (default: stderr)")
    parser.add_argument("--verbose", action="store_true", help="log every command")
    parser.add_argument("--tls-cert", help="server certificate (PEM): TLS is then accepted on the same port, "
                        "as mongod's --tlsMode allowTLS does; a connection whose first byte is 0x16 is TLS")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if bool(args.user) != bool(args.password):
        parser.error("--user and --password go together")
    logging.basicConfig(filename=args.log, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(threadName)s %(message)s")

    server = Server(args)
    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    listener = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(64)
    port = listener.getsockname()[1]

    def stop(signum, frame):
        raise Shutdown(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    print(f"mongo-wire-test-server listening on {args.host}:{port} "
          f"(mongomock {mongomock.__version__}, pymongo bson {pymongo.version})", flush=True)
    log.info("listening on %s:%d, auth %s", args.host, port,
             f"required ({args.user}@{args.auth_db})" if args.user else "disabled")
    try:
        while True:
            sock, peer = listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=serve_connection, args=(server, sock, peer, tls), daemon=True).start()
    except Shutdown as e:
        log.info("%s received, shutting down", e)
    finally:
        listener.close()
        if args.pidfile:
            try:
                os.remove(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
