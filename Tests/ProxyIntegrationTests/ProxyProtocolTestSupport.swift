import Foundation
import LocalDBProxy
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ProxyCore
import ServerALPN

/// A router in this process with `proxy_protocol` configured, in front of an echo backend
/// (database `echo1`, protocol redis) and any other databases given.
struct ProxyProtocolRouter {
    let pki: TestPKI
    let backend: TestBackend
    let router: Router
    let port: Int
    let events = EventRecorder<RouterEvent>()

    static func start(
        trusted: [String]?, header: ProxyProtocolConfiguration.HeaderRequirement = .optional, databases: [DatabaseRoute] = []
    ) async throws -> ProxyProtocolRouter {
        let pki = try TestPKI()
        let backend = try await TestBackend.start(.echo)
        let proxyProtocol = try trusted.map { cidrs in
            ProxyProtocolConfiguration(trustedNetworks: try cidrs.map { try IPNetwork(parsing: $0) }, header: header)
        }
        let configuration = RouterConfiguration(
            listenAddress: HostAndPort(host: "127.0.0.1", port: 0),
            certificateChain: try pki.serverChain, privateKey: try pki.serverKey, clientCA: try pki.userCACertificates,
            databases: [DatabaseRoute(name: "echo1", databaseProtocol: .redis, address: HostAndPort(host: "127.0.0.1", port: backend.port))]
                + databases,
            timeouts: ProxyTimeouts(handshake: .seconds(10), connect: .seconds(5), login: .seconds(30)),
            proxyProtocol: proxyProtocol)
        var logger = Logger(label: "test.router")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let router = Router(configuration: configuration, logger: logger)
        let address = try await router.start()
        let started = ProxyProtocolRouter(pki: pki, backend: backend, router: router, port: address.port ?? 0)
        started.events.record(router.events)
        return started
    }

    /// The first routed connection.
    func routed() async throws -> RoutedConnection {
        try await events.first { event -> RoutedConnection? in
            if case .routed(let routed) = event { return routed }
            return nil
        }
    }

    /// The first rejection: the socket peer, the reason and the client address.
    func rejection() async throws -> (peer: String, reason: RouterRejection, client: HostAndPort?) {
        try await events.first { event -> (String, RouterRejection, HostAndPort?)? in
            if case .rejected(_, let peer, let reason, let client) = event { return (peer, reason, client) }
            return nil
        }
    }

    /// A local proxy for `material`, dialling `port` (this router, or a load balancer in front of it).
    func localProxy(_ material: TLSMaterial, dialling port: Int) async throws -> (LocalProxy, Int) {
        let configuration = LocalProxyConfiguration(routerHost: "127.0.0.1", routerPort: port, tls: material, serverName: "localhost")
        var logger = Logger(label: "test.local")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let proxy = try LocalProxy(configuration: configuration, logger: logger)
        let address = try await proxy.start()
        return (proxy, address.port ?? 0)
    }

    func stop() async {
        await router.stop(deadline: .now() + .seconds(1))
        await backend.stop()
    }
}

/// A TCP client from 127.0.0.1 that writes a PROXY protocol header in the clear, then runs a
/// real TLS session (client certificate, ALPN) on the same connection, as a TLS client behind a
/// load balancer would appear to the router.
enum ProxyHeaderTLSClient {
    struct Outcome: Sendable {
        var handshakeCompleted = false
        var negotiatedProtocol: String?
        var received: [UInt8] = []
        var closedByServer = false
        var error: String?
        /// The client socket's own port (what the router sees as the peer's port).
        var localPort: Int?
    }

    /// Connects, writes `header`, starts TLS, sends `send` once the handshake completes, and
    /// reads until `expecting` bytes came back, the server closed, or `holdFor` ran out.
    static func run(
        port: Int, header: [UInt8], material: TLSMaterial?, trustRoots: [NIOSSLCertificate], alpn: [String],
        send: [UInt8] = [], expecting: Int? = nil, holdFor: TimeAmount = .seconds(5)
    ) async throws -> Outcome {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.applicationProtocols = alpn
        tls.trustRoots = .certificates(trustRoots)
        if let material {
            tls.certificateChain = material.certificateChain.map { .certificate($0) }
            tls.privateKey = .privateKey(material.privateKey)
        }
        let context = try NIOSSLContext(configuration: tls)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: Outcome.self)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // The header goes out when the connection is up, before the TLS handler
                        // (which starts its handshake on the same event) writes the ClientHello.
                        let recorder = HeaderClientRecorder(send: send, expecting: expecting, done: promise)
                        try channel.pipeline.syncOperations.addHandler(HeaderWriter(header: header))
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                        try channel.pipeline.syncOperations.addHandler(recorder)
                        let bound = NIOLoopBound(recorder, eventLoop: loop)
                        loop.scheduleTask(in: holdFor) { promise.succeed(bound.value.outcome) }
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        } catch {
            promise.fail(error)  // a promise must not be left unfulfilled
            throw error
        }
        let outcome = try await promise.futureResult.get()
        try? await channel.close().get()
        return outcome
    }
}

/// Writes the PROXY header as soon as the connection is up, then lets the handlers after it
/// see the connection.
private final class HeaderWriter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let header: [UInt8]

    init(header: [UInt8]) { self.header = header }

    func channelActive(context: ChannelHandlerContext) {
        if !header.isEmpty { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: header)), promise: nil) }
        context.fireChannelActive()
    }
}

private final class HeaderClientRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var outcome = ProxyHeaderTLSClient.Outcome()
    let send: [UInt8]
    let expecting: Int?
    let done: EventLoopPromise<ProxyHeaderTLSClient.Outcome>

    init(send: [UInt8], expecting: Int?, done: EventLoopPromise<ProxyHeaderTLSClient.Outcome>) {
        self.send = send
        self.expecting = expecting
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        outcome.localPort = context.channel.localAddress?.port
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            outcome.handshakeCompleted = true
            outcome.negotiatedProtocol = negotiated
            if !send.isEmpty { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: send)), promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        outcome.received += Array(buffer: unwrapInboundIn(data))
        if let expecting, outcome.received.count >= expecting { done.succeed(outcome) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if outcome.error == nil { outcome.error = String(describing: error) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        outcome.closedByServer = true
        done.succeed(outcome)
    }
}

/// Debian's HAProxy in TCP mode on a free loopback port, forwarding to `target` with the
/// `server` options given (e.g. `send-proxy-v2`), logging each connection to standard output:
/// `pp-test client=<ip:port the client came from> haproxy_source=<ip:port HAProxy connected from>`.
final class HAProxyProcess: Sendable {
    let process: CLIProcess
    let port: Int
    let directory: String

    private init(process: CLIProcess, port: Int, directory: String) {
        self.process = process
        self.port = port
        self.directory = directory
    }

    /// The haproxy program, or a failure saying how to install it: the tests that need it fail
    /// rather than skip.
    static func executable() async throws -> String {
        for candidate in ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        let found = try await Command.run(["sh", "-c", "command -v haproxy"])
        let path = found.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard found.status == 0, !path.isEmpty else {
            throw HAProxyMissing(what: "haproxy is not installed (it is Debian's `haproxy` package: apt-get install -y haproxy); the PROXY protocol tests run it as a real sender")
        }
        return path
    }

    static func start(forwardingTo target: Int, serverOptions: String) async throws -> HAProxyProcess {
        let haproxy = try await executable()
        let port = try await freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-haproxy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
            global
                log stdout format raw local0 info
                maxconn 64
            defaults
                mode tcp
                log global
                timeout connect 5s
                timeout client 60s
                timeout server 60s
            frontend fe
                bind 127.0.0.1:\(port)
                log-format "pp-test client=%ci:%cp haproxy_source=%bi:%bp"
                default_backend be
            backend be
                server router 127.0.0.1:\(target) \(serverOptions)

            """
        let path = directory + "/haproxy.cfg"
        try Data(config.utf8).write(to: URL(fileURLWithPath: path))
        let process = try CLIProcess.start([haproxy, "-db", "-f", path])
        let started = HAProxyProcess(process: process, port: port, directory: directory)
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            if process.exited() {
                throw HAProxyMissing(what: "haproxy exited at start\n\(process.transcript)")
            }
            if await listening(port) { return started }
            guard ContinuousClock.now < deadline else {
                started.stop()
                throw TestTimeout(what: "haproxy did not listen on 127.0.0.1:\(port) within 10 s\n\(process.transcript)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The `client` and `haproxy_source` of the log line of the connection that came from `clientPort`.
    func logged(clientPort: Int, timeout: Duration = .seconds(30)) async throws -> (client: HostAndPort, haproxySource: HostAndPort) {
        let line = try await process.line(containing: "pp-test client=127.0.0.1:\(clientPort) ", timeout: timeout)
        var fields: [String: HostAndPort] = [:]
        for part in line.split(separator: " ") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2, let address = HostAndPort(parsing: String(pair[1])) { fields[String(pair[0])] = address }
        }
        guard let client = fields["client"], let source = fields["haproxy_source"] else {
            throw TestTimeout(what: "unexpected haproxy log line: \(line)")
        }
        return (client, source)
    }

    func stop() {
        process.terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Whether something accepts connections on 127.0.0.1:`port` (checked with a bare connect,
    /// no bytes: HAProxy's health of its listener, not the router's).
    private static func listening(_ port: Int) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(1)).connect(host: "127.0.0.1", port: port).get()
            try? await channel.close().get()
            return true
        } catch {
            return false
        }
    }

    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close().get()
        return port
    }
}

struct HAProxyMissing: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}
