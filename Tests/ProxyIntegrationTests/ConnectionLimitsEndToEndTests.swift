import Foundation
import LocalDBProxy
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ProxyCore
import ServerALPN
import Testing

/// `proxy_service.connection_limits` over real sockets: a trusted load balancer on 127.0.0.1
/// presents several client addresses with PROXY protocol headers, each limited on its own; a
/// refused TLS client is closed before TLS; psql straight to the router is told why.
@Suite("Connection limits end to end", .serialized)
struct ConnectionLimitsEndToEndTests {
    static let message = Array("limited".utf8)

    static func header(_ client: String, port: Int = 5555) -> [UInt8] {
        Array("PROXY TCP4 \(client) 192.0.2.1 \(port) 443\r\n".utf8)
    }

    /// A router trusting 127.0.0.0/8 for PROXY headers, with `limits` put in place by a reload.
    func router(_ limits: ConnectionLimits) async throws -> ProxyProtocolRouter {
        let router = try await ProxyProtocolRouter.start(trusted: ["127.0.0.0/8"])
        var configuration = router.router.configuration
        configuration.connectionLimits = limits
        try router.router.reload(configuration)
        return router
    }

    /// One TLS session to the echo database as `client`, closed once the echo came back.
    func session(_ router: ProxyProtocolRouter, as client: String) async throws -> ProxyHeaderTLSClient.Outcome {
        try await ProxyHeaderTLSClient.run(
            port: router.port, header: Self.header(client), material: try router.pki.user(), trustRoots: try router.pki.hostCACertificates,
            alpn: ["teleport-redis"], send: Self.message, expecting: Self.message.count)
    }

    /// Waits until `condition` holds (the router releases counts on its event loop, after the close).
    func eventually(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<200 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestTimeout(what: what)
    }

    @Test("max_connections 2: a third connection from 203.0.113.7 is closed before TLS while 198.51.100.9 gets in; a close frees the slot; nothing is left counted")
    func maxConnections() async throws {
        let router = try await router(ConnectionLimits(maxConnections: 2))
        let first = try await HeldTLSSession.open(router, header: Self.header("203.0.113.7", port: 1001), message: Self.message)
        let second = try await HeldTLSSession.open(router, header: Self.header("203.0.113.7", port: 1002), message: Self.message)
        #expect(router.router.openConnections(from: "203.0.113.7") == 2)

        let refused = try await session(router, as: "203.0.113.7")
        #expect(!refused.handshakeCompleted && refused.closedByServer && refused.received.isEmpty, "\(refused)")
        let (_, reason, client) = try await router.rejection()
        #expect(reason == .tooManyConnections(client: "203.0.113.7", limit: 2))
        #expect(reason.kind == "connection_limit")
        #expect(client == HostAndPort(host: "203.0.113.7", port: 5555))

        let other = try await session(router, as: "198.51.100.9")
        #expect(other.received == Self.message, "another client address is not limited: \(other)")

        await first.close()
        try await eventually("the count of 203.0.113.7 did not drop to 1") { router.router.openConnections(from: "203.0.113.7") == 1 }
        let again = try await session(router, as: "203.0.113.7")
        #expect(again.received == Self.message, "a freed slot is usable: \(again)")

        await second.close()
        try await eventually("counts left behind: \(router.router.trackedClientAddresses) addresses") {
            router.router.openConnections(from: "203.0.113.7") == 0 && router.router.openConnections(from: "198.51.100.9") == 0
                && router.router.trackedClientAddresses == 0
        }
        await router.stop()
    }

    @Test("many connections opened and closed (some refused, some cut before TLS): every count is released")
    func noLeak() async throws {
        let router = try await router(ConnectionLimits(maxConnections: 3))
        var held: [HeldTLSSession] = []
        for index in 0..<3 {
            held.append(try await HeldTLSSession.open(router, header: Self.header("192.0.2.50", port: 2000 + index), message: Self.message))
        }
        for _ in 0..<5 {
            let refused = try await session(router, as: "192.0.2.50")
            #expect(!refused.handshakeCompleted)
        }
        // Clients that go away after the header, before any TLS byte.
        for index in 0..<5 {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: router.port).get()
            try await channel.writeAndFlush(ByteBuffer(bytes: Self.header("192.0.2.60", port: 3000 + index))).get()
            try await channel.close().get()
        }
        #expect(router.router.openConnections(from: "192.0.2.50") == 3)
        for session in held { await session.close() }
        try await eventually("counts left: \(router.router.openConnections(from: "192.0.2.50")) and \(router.router.openConnections(from: "192.0.2.60"))") {
            router.router.openConnections(from: "192.0.2.50") == 0 && router.router.openConnections(from: "192.0.2.60") == 0
                && router.router.openConnections == 0
        }
        #expect(router.router.trackedClientAddresses == 0)
        await router.stop()
    }

    @Test("rates {period: 1m, average: 1, burst: 3}: a burst of 5 from one address lets 3 in and refuses 2; another address is not affected")
    func rateLimit() async throws {
        let rate = ConnectionRate(period: .minutes(1), average: 1, burst: 3)
        let router = try await router(ConnectionLimits(rates: [rate]))
        var outcomes: [ProxyHeaderTLSClient.Outcome] = []
        for _ in 0..<5 { outcomes.append(try await session(router, as: "203.0.113.7")) }
        #expect(outcomes.map { $0.received == Self.message } == [true, true, true, false, false], "\(outcomes)")
        #expect(outcomes.suffix(2).allSatisfy { !$0.handshakeCompleted && $0.closedByServer })
        let reasons = try await router.events.matches(atLeast: 2) { event -> RouterRejection? in
            if case .rejected(_, _, let reason, _) = event { return reason }
            return nil
        }
        #expect(reasons == [.connectionRateExceeded(client: "203.0.113.7", rate: rate), .connectionRateExceeded(client: "203.0.113.7", rate: rate)])
        #expect(reasons.first?.kind == "connection_rate")
        let other = try await session(router, as: "198.51.100.9")
        #expect(other.received == Self.message)
        await router.stop()
    }

    @Test("psql straight to the router over max_connections: the router's FATAL naming the limit; SQLSTATE 53300 inside TLS")
    func psqlRefused() async throws {
        try await DevDatabase.requirePostgres()
        let database = DatabaseRoute(
            name: "pg-plain", databaseProtocol: .postgres, address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort))
        let router = try await router(ConnectionLimits(maxConnections: 1))
        var configuration = router.router.configuration
        configuration.databases.append(database)
        try router.router.reload(configuration)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-limits-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var request = UserCertificateRequest(
            user: "trustuser", route: RouteToDatabase(serviceName: "pg-plain", protocolName: "postgres", username: "trustuser", database: "appdb"),
            notBefore: Date() - 60, validFor: 3600)
        request.roles = ["dev"]
        let paths = try router.pki.writeFiles(user: try router.pki.userCA.issueUser(request), to: directory)
        let conninfo = "host=localhost port=\(router.port) user=trustuser dbname=appdb sslmode=verify-full "
            + "sslcert=\(paths.cert) sslkey=\(paths.key) sslrootcert=\(paths.hostCA) connect_timeout=10"

        let admitted = try await Command.run(["psql", conninfo, "-X", "-At", "-c", "select 'in'"])
        #expect(admitted.status == 0 && admitted.output == "in\n", "under the limit: \(admitted.output)")

        try await eventually("psql's connection was not released") { router.router.openConnections(from: "127.0.0.1") == 0 }
        // A session presenting 127.0.0.1 (psql's address: the socket peer, as it sends no header) takes the one slot.
        let holder = try await HeldTLSSession.open(router, header: Self.header("127.0.0.1"), message: Self.message)
        #expect(router.router.openConnections(from: "127.0.0.1") == 1)
        let refused = try await Command.run(["psql", conninfo, "-X", "-At", "-c", "select 1"])
        print("psql over the limit: \(refused.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(refused.status != 0)
        #expect(refused.output.contains("FATAL:  dbproxy router: too many connections from 127.0.0.1: 1 open, the most proxy_service.connection_limits.max_connections allows per client address"), "\(refused.output)")
        #expect(refused.output.contains("HINT:  Close connections you no longer use"), "\(refused.output)")
        let (_, reason, _) = try await router.rejection()
        #expect(reason == .tooManyConnections(client: "127.0.0.1", limit: 1))

        let fields = try await Command.run([
            "python3", "-c", Self.pythonStartup, "localhost", "\(router.port)", paths.hostCA, paths.cert, paths.key,
        ])
        #expect(fields.status == 0, "\(fields.output)")
        #expect(fields.output.contains("C=53300"), "the ErrorResponse's SQLSTATE: \(fields.output)")
        #expect(fields.output.contains("S=FATAL"), "\(fields.output)")
        await holder.close()
        try await eventually("the holder's count was not released") { router.router.openConnections(from: "127.0.0.1") == 0 }
        await router.stop()
    }

    /// SSLRequest, TLS with the client certificate, a StartupMessage, then the fields of the
    /// ErrorResponse that comes back, one `code=value` a line (an independent PostgreSQL client
    /// that shows the SQLSTATE, which psql does not print for a failed connection).
    static let pythonStartup = """
        import socket, ssl, struct, sys
        host, port, ca, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
        raw = socket.create_connection((host, port), timeout=10)
        raw.sendall(struct.pack(">II", 8, 80877103))
        answer = raw.recv(1)
        if answer != b"S":
            sys.exit("SSLRequest answered %r" % answer)
        context = ssl.create_default_context(cafile=ca)
        context.load_cert_chain(cert, key)
        tls = context.wrap_socket(raw, server_hostname=host)
        body = struct.pack(">I", 196608) + b"user\\0trustuser\\0database\\0appdb\\0\\0"
        tls.sendall(struct.pack(">I", len(body) + 4) + body)
        data = b""
        while True:
            chunk = tls.recv(4096)
            if not chunk:
                break
            data += chunk
        if data[:1] != b"E":
            sys.exit("not an ErrorResponse: %r" % data[:64])
        length = struct.unpack(">I", data[1:5])[0]
        for field in data[5:1 + length].split(b"\\0"):
            if field:
                print("%s=%s" % (chr(field[0]), field[1:].decode()))
        """
}

/// A TLS session to the echo database behind a PROXY header, kept open until `close()`.
final class HeldTLSSession: Sendable {
    let channel: Channel

    private init(channel: Channel) {
        self.channel = channel
    }

    /// Connects, writes `header`, completes TLS, sends `message` and waits for its echo.
    static func open(_ router: ProxyProtocolRouter, header: [UInt8], message: [UInt8]) async throws -> HeldTLSSession {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.applicationProtocols = ["teleport-redis"]
        tls.trustRoots = .certificates(try router.pki.hostCACertificates)
        let material = try router.pki.user()
        tls.certificateChain = material.certificateChain.map { .certificate($0) }
        tls.privateKey = .privateKey(material.privateKey)
        let context = try NIOSSLContext(configuration: tls)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let echoed = loop.makePromise(of: Void.self)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HeldSessionHeader(header: header))
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                        try channel.pipeline.syncOperations.addHandler(HeldSessionEcho(message: message, echoed: echoed))
                    }
                }
                .connect(host: "127.0.0.1", port: router.port).get()
        } catch {
            echoed.fail(error)
            throw error
        }
        try await echoed.futureResult.get()
        return HeldTLSSession(channel: channel)
    }

    func close() async {
        try? await channel.close().get()
    }
}

private final class HeldSessionHeader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let header: [UInt8]

    init(header: [UInt8]) { self.header = header }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: header)), promise: nil)
        context.fireChannelActive()
    }
}

private final class HeldSessionEcho: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let message: [UInt8]
    let echoed: EventLoopPromise<Void>
    var received: [UInt8] = []
    var done = false

    init(message: [UInt8], echoed: EventLoopPromise<Void>) {
        self.message = message
        self.echoed = echoed
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: message)), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += Array(buffer: unwrapInboundIn(data))
        if received.count >= message.count { finish(.success(())) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.ioOnClosedChannel))
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !done else { return }
        done = true
        echoed.completeWith(result)
    }
}
