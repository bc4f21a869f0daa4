import Foundation
import LocalDBProxy
import NIOCore
import NIOSSL
import ProxyCore
import ServerALPN
import Testing

/// pymongo -> local proxy -> router -> the MongoDB server of scripts/dev-db (mongod in
/// docker-compose.yml where Docker runs, otherwise the wire-protocol test server of
/// Tests/Fixtures/mongo): every message framed and checked, `$db` enforced from the certificate.
@Suite("MongoDB end to end", .serialized)
struct MongoEndToEndTests {
    private func startChain() async throws -> ProxyChain {
        try await DevDatabase.requireMongo()
        let address = HostAndPort(host: DevDatabase.mongoHost, port: DevDatabase.mongoPort)
        let roots = try TLSMaterial.loadCertificates(file: try DevDatabase.tlsCA())
        return try await ProxyChain.start(databases: [
            DatabaseRoute(name: "mongo", databaseProtocol: .mongodb, address: address),
            DatabaseRoute(
                name: "mongo-tls", databaseProtocol: .mongodb, address: address,
                tls: DatabaseTLS(mode: .verifyFull, trustRoots: roots, serverName: "localhost")),
            DatabaseRoute(
                name: "mongo-wrong-ca", databaseProtocol: .mongodb, address: address,
                tls: DatabaseTLS(mode: .verifyFull, trustRoots: try unrelatedRoots(), serverName: "localhost")),
            DatabaseRoute(name: "mongo-down", databaseProtocol: .mongodb, address: HostAndPort(host: "127.0.0.1", port: 1)),
        ])
    }

    /// A CA that signed nothing the dev databases present.
    private func unrelatedRoots() throws -> [NIOSSLCertificate] {
        try TestPKI().hostCACertificates
    }

    /// A local proxy for alice; `database` is the certificate's database ("" = no restriction).
    private func proxy(
        _ chain: ProxyChain, service: String = "mongo", database: String = "appdb", localTLS: LocalTLSFiles? = nil,
        notBefore: Date = Date() - 60, validFor: TimeInterval = 3600
    ) async throws -> (LocalProxy, Int) {
        let material = try chain.pki.user(
            "alice", service: service, protocolName: "mongodb", notBefore: notBefore, validFor: validFor, database: database)
        let (proxy, port, _) = try await chain.localProxy(material, localTLS: try localTLS?.loadOrCreate().material)
        return (proxy, port)
    }

    private func uri(port: Int, password: String = "alice-pw", options: String = "") -> String {
        "mongodb://alice:\(password)@127.0.0.1:\(port)/appdb?authSource=admin&directConnection=true&serverSelectionTimeoutMS=5000\(options)"
    }

    @Test("CRUD through the chain: 20,000 documents, a cursor over getMore batches, aggregate, update, delete",
          arguments: ["appdb", ""])
    func crud(certificateDatabase: String) async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, database: certificateDatabase)
        let run = try await MongoWorkload.run(uri(port: port), ["crud", "--count", "20000", "--batch-size", "1000"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.facts["inserted"] == "20000", "\(run.output)")
        #expect(run.facts["found"] == "20000")
        #expect(run.facts["get_more_batches"] == "19")
        #expect(run.facts["aggregate_groups"] == "10")
        #expect(run.facts["aggregate_total"] == "\(3 * (0..<20000).reduce(0, +))")
        #expect(run.facts["updated"] == "2000")
        #expect(run.facts["flagged"] == "2000")
        #expect(run.facts["deleted"] == "4000")
        #expect(run.facts["remaining"] == "16000")
        await proxy.stop()
        await chain.stop()
    }

    @Test("the router reaches the database over TLS (verify-full against the dev CA)")
    func databaseOverTLS() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, service: "mongo-tls")
        let run = try await MongoWorkload.run(uri(port: port), ["crud", "--count", "3000", "--batch-size", "1000"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.facts["found"] == "3000", "\(run.output)")
        let routed = try await chain.routerEvents.first { event -> RoutedConnection? in
            if case .routed(let routed) = event, routed.database == "mongo-tls" { return routed }
            return nil
        }
        #expect(routed.destination.port == DevDatabase.mongoPort)
        #expect(routed.backendDialDuration != nil, "the TCP connect to the database is timed")
        await proxy.stop()
        let closed = try await chain.routerEvents.first { event -> ClosedConnection? in
            if case .closed(let closed) = event, closed.routed.database == "mongo-tls" { return closed }
            return nil
        }
        #expect(closed.bytesFromClient > 0 && closed.bytesToClient > 0, "\(closed.bytesFromClient) and \(closed.bytesToClient) bytes")
        await chain.stop()
    }

    @Test("a database certificate from another CA: the driver shows the router's TLS error, nothing goes in plain text")
    func databaseCertificateRefused() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, service: "mongo-wrong-ca")
        let run = try await MongoWorkload.run(uri(port: port, options: "&serverSelectionTimeoutMS=2000"), ["command"])
        #expect(run.status == 1)
        #expect(run.facts["error"]?.contains("dbproxy router: cannot reach database \"mongo-wrong-ca\"") == true, "\(run.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("a 15 MiB document goes and comes back with equal SHA-256")
    func bigDocument() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain)
        let run = try await MongoWorkload.run(uri(port: port), ["big-document", "--megabytes", "15"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.facts["sent_sha256"] != nil)
        #expect(run.facts["sent_sha256"] == run.facts["received_sha256"], "\(run.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("insert_many of about 40 MB in one message (kind-1 document sequence), read back equal")
    func bulkInsert() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain)
        let run = try await MongoWorkload.run(uri(port: port), ["bulk-insert", "--megabytes", "40"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.facts["documents"] == "152", "\(run.output)")
        #expect(run.facts["counted"] == "152")
        #expect(run.facts["digest_equal"] == "True")
        await proxy.stop()
        await chain.stop()
    }

    @Test("compressors=zlib: compressed messages pass, and the router reads their $db to enforce the certificate")
    func zlib() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain)
        let run = try await MongoWorkload.run(uri(port: port, options: "&compressors=zlib"), ["compressed"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.facts["compression_contexts"] == "ZlibContext", "\(run.output)")
        #expect(run.facts["counted"] == "500")
        #expect(run.facts["read_back"] == "500")
        let refused = try await MongoWorkload.run(uri(port: port, options: "&compressors=zlib"), ["command", "--database", "otherdb", "--name", "listCollections"])
        #expect(refused.status == 1)
        #expect(refused.facts["error_code"] == "13", "\(refused.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("SCRAM-SHA-256 login: the right password works, a wrong one shows the server's error")
    func login() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain)
        let plainURI = "mongodb://127.0.0.1:\(port)/?directConnection=true&serverSelectionTimeoutMS=5000"
        let good = try await MongoWorkload.run(plainURI, ["login", "--user", "alice", "--password", "alice-pw"])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.facts["logged_in_as"] == "alice")
        let bad = try await MongoWorkload.run(plainURI, ["login", "--user", "alice", "--password", "wrong"])
        #expect(bad.status == 1)
        #expect(bad.facts["error_type"] == "OperationFailure", "\(bad.output)")
        #expect(bad.facts["error"]?.contains("Authentication failed") == true, "\(bad.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("the certificate's database is enforced: another $db gets Unauthorized (13) naming what is allowed")
    func databaseEnforced() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain)
        let allowed = try await MongoWorkload.run(uri(port: port), ["command", "--database", "appdb", "--name", "listCollections"])
        #expect(allowed.status == 0, "\(allowed.output)")
        let refused = try await MongoWorkload.run(uri(port: port), ["command", "--database", "otherdb", "--name", "listCollections"])
        #expect(refused.status == 1)
        #expect(refused.facts["error_code"] == "13", "\(refused.output)")
        #expect(refused.facts["error"]?.contains(
            "dbproxy router: command 'listCollections' on database 'otherdb' not allowed by certificate for \"mongo\" (allowed: appdb)") == true,
            "\(refused.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("local TLS: pymongo with tls=true against the local CA")
    func localTLS() async throws {
        let chain = try await startChain()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-mongo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = LocalTLSFiles(directory: directory)
        let (proxy, port) = try await self.proxy(chain, localTLS: files)
        let options = "&tls=true&tlsCAFile=\(files.caCertificate)"
        let run = try await MongoWorkload.run(uri(port: port, options: options), ["crud", "--count", "2000", "--batch-size", "500"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.facts["found"] == "2000", "\(run.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("the local proxy on a unix socket: pymongo connects by the socket's percent-encoded path")
    func unixSocket() async throws {
        let chain = try await startChain()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-mongo-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/mongo.sock"
        let material = try chain.pki.user("alice", service: "mongo", protocolName: "mongodb")
        let (proxy, _, _) = try await chain.localProxy(material, unixSocketPath: path)
        let encoded = path.replacingOccurrences(of: "/", with: "%2F")
        let run = try await MongoWorkload.run(
            "mongodb://alice:alice-pw@\(encoded)/appdb?authSource=admin&directConnection=true&serverSelectionTimeoutMS=5000",
            ["crud", "--count", "1000", "--batch-size", "400"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.facts["found"] == "1000", "\(run.output)")
        await proxy.stop()
        await chain.stop()
    }

    /// Tests/Fixtures/mongo/raw_request.py PORT KIND: one hand-made message, what came back.
    private func raw(port: Int, _ kind: String) async throws -> [String: String] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/mongo/raw_request.py").path
        return WorkloadTool.facts(of: try await Command.run(["python3", script, "\(port)", kind])).facts
    }

    @Test("bad input: a 15-byte header (local proxy) and a wrong checksum (router) get ProtocolError replies, then the close; the next client works")
    func badInput() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain)
        let short = try await raw(port: port, "short-length")
        #expect(short["reply_to"] == "4242")
        #expect(short["reply_code"] == "17")
        #expect(short["reply_errmsg"]?.hasPrefix("dbproxy: ") == true, "\(short)")
        #expect(short["closed"] == "yes")
        let checksum = try await raw(port: port, "bad-checksum")
        #expect(checksum["reply_to"] == "4243")
        #expect(checksum["reply_code"] == "17")
        #expect(checksum["reply_errmsg"]?.hasPrefix("dbproxy router: ") == true, "\(checksum)")
        #expect(checksum["reply_errmsg"]?.lowercased().contains("checksum") == true, "\(checksum)")
        #expect(checksum["closed"] == "yes")
        let moreToCome = try await raw(port: port, "other-db-more-to-come")
        #expect(moreToCome["reply_code"] == nil, "\(moreToCome)")
        #expect(moreToCome["closed"] == "yes")
        let next = try await MongoWorkload.run(uri(port: port), ["command"])
        #expect(next.status == 0, "\(next.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("an expired certificate: the driver shows the local proxy's reply to its hello")
    func expiredCertificate() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, notBefore: Date() - 7200, validFor: 3600)
        let run = try await MongoWorkload.run(uri(port: port, options: "&serverSelectionTimeoutMS=2000"), ["command"])
        #expect(run.status == 1)
        #expect(run.facts["error"]?.contains("dbproxy: certificate expired at") == true, "\(run.output)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("the database is down: the driver shows the router's reply naming the database and its address")
    func databaseDown() async throws {
        let chain = try await startChain()
        let (proxy, port) = try await self.proxy(chain, service: "mongo-down")
        let run = try await MongoWorkload.run(uri(port: port, options: "&serverSelectionTimeoutMS=2000"), ["command"])
        #expect(run.status == 1)
        #expect(run.facts["error"]?.contains("dbproxy router: cannot reach database \"mongo-down\" at 127.0.0.1:1") == true, "\(run.output)")
        await proxy.stop()
        await chain.stop()
    }
}
