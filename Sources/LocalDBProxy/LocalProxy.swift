import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ProxyCore

/// The local end of the tunnel: listens on localhost and carries every accepted connection to
/// the router over mutual TLS, asking for the ALPN protocol of the certificate's database.
///
///     let proxy = try LocalProxy(configuration: configuration)
///     let address = try await proxy.start()
///     ...
///     await proxy.stop()
public final class LocalProxy: Sendable {
    public let configuration: LocalProxyConfiguration
    /// The identity in the user certificate new connections use.
    public var identity: CertificateIdentity { current.withLockedValue { $0.identity } }
    /// The database protocol the certificate names.
    public let databaseProtocol: DatabaseProtocol
    /// The ALPN values offered to the router, most preferred first.
    public let applicationProtocols: [ALPNProtocol]
    /// What the proxy does, as it happens. Finishes after `stop()`.
    public let events: AsyncStream<LocalProxyEvent>

    private let group: any EventLoopGroup
    private let logger: Logger
    private let current: NIOLockedValueBox<CurrentIdentity>
    private let refresher: CertificateRefresher
    private let localTLSContext: NIOSSLContext?
    private let continuation: AsyncStream<LocalProxyEvent>.Continuation
    private let state = NIOLockedValueBox(State())
    private let connectionIDs = ConnectionIDs()
    private let now: @Sendable () -> Date
    /// Pre-handshaken router connections (`configuration.warmPool` > 0).
    private let pool: WarmPool?

    private struct State {
        var refreshing: Task<Void, Never>?
        /// The unix socket file this proxy bound, so that stop removes only its own.
        var socketInode: UInt64?
        /// The listening sockets: one per event loop for TCP, one for a unix socket.
        var listener: [Channel] = []
        var connections: [ObjectIdentifier: Channel] = [:]
        var stopping = false
    }

    /// Reads the certificate's identity and prepares TLS; throws when the certificate names no
    /// supported database protocol or the TLS material is unusable.
    public init(
        configuration: LocalProxyConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "dbproxy.local"),
        clock now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.now = now
        if case .files(_, let key, _) = configuration.identitySource {
            try KeyFilePermissions.check(key)
        }
        let identity = try configuration.tls.identity()
        databaseProtocol = try configuration.databaseProtocol ?? identity.databaseProtocol()
        applicationProtocols = ALPNProtocol.clientOffer(for: databaseProtocol, mysqlServerVersion: configuration.mysqlServerVersion)
        let current = NIOLockedValueBox(try CurrentIdentity(
            material: configuration.tls, applicationProtocols: applicationProtocols, insecure: configuration.insecure))
        self.current = current
        let localProtocols = databaseProtocol.localTLSApplicationProtocols
        localTLSContext = try configuration.localTLS.map { material in
            try NIOSSLContext(configuration: .localServer(material: material, applicationProtocols: localProtocols))
        }
        let (events, continuation) = AsyncStream.makeStream(of: LocalProxyEvent.self, bufferingPolicy: .bufferingNewest(1024))
        (self.events, self.continuation) = (events, continuation)
        let pool = configuration.warmPool > 0
            ? WarmPool(
                size: configuration.warmPool,
                maxAge: configuration.warmPoolMaxAge ?? LocalProxyConfiguration.defaultWarmPoolMaxAge(for: databaseProtocol),
                group: group, configuration: configuration, current: current, now: now, logger: logger)
            : nil
        self.pool = pool
        refresher = CertificateRefresher(
            source: configuration.identitySource, current: current, applicationProtocols: applicationProtocols,
            databaseProtocol: databaseProtocol, insecure: configuration.insecure, expiryWarning: configuration.expiryWarning,
            logger: logger, now: now, emit: { continuation.yield($0) }, onInstall: { pool?.identityChanged() })
    }

    /// Binds the listener and returns its address.
    public func start() async throws -> SocketAddress {
        let configure = { [self] (bootstrap: ServerBootstrap) in
            bootstrap
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .proxiedChildOptions()
                .childChannelOption(ChannelOptions.autoRead, value: false)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try self.accept(channel)
                    }
                }
        }
        let listener: [Channel]
        if let path = configuration.unixSocketPath {
            try UnixSocketFile.removeStale(at: path)
            listener = [try await configure(ServerBootstrap(group: group)).bind(unixDomainSocketPath: path).get()]
            try UnixSocketFile.restrict(path, mode: configuration.unixSocketMode)
            let inode = UnixSocketFile.inode(at: path)
            state.withLockedValue { $0.socketInode = inode }
        } else {
            // One socket per event loop: an accepted client stays on the loop that accepted it,
            // where the warm pool keeps router connections too.
            listener = try await PerLoopListeners.bind(group: group, host: configuration.listenHost, port: configuration.listenPort) {
                configure($0)
                    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            }
        }
        state.withLockedValue { $0.listener = listener }
        guard let address = listener.first?.localAddress else { throw LocalProxyStartError.noLocalAddress }
        logger.info("local proxy listening", metadata: [
            "address": "\(address)", "service": "\(identity.routeToDatabase.serviceName)",
            "protocol": "\(databaseProtocol)", "alpn": "\(applicationProtocols.map(\.rawValue))",
        ])
        continuation.yield(.listening(address))
        let refresher = refresher
        let interval = configuration.certificateCheckInterval
        state.withLockedValue { $0.refreshing = Task { await refresher.run(every: interval) } }
        pool?.start()
        return address
    }

    /// Stops accepting, lets open tunnels finish until `deadline`, then closes the rest.
    /// Returns how many connections were still open at the deadline and closed then. A
    /// cancelled task stops waiting at once.
    @discardableResult
    public func stop(deadline: NIODeadline = .now() + .seconds(5)) async -> Int {
        let (listener, inode) = state.withLockedValue { state -> ([Channel], UInt64?) in
            state.stopping = true
            state.refreshing?.cancel()
            return (state.listener, state.socketInode)
        }
        for channel in listener { try? await channel.close().get() }
        pool?.stop()
        if let path = configuration.unixSocketPath, let inode { UnixSocketFile.removeOwn(at: path, inode: inode) }
        continuation.yield(.draining(openConnections: openConnections))
        while NIODeadline.now() < deadline, !Task.isCancelled, !(state.withLockedValue { $0.connections.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let remaining = state.withLockedValue { Array($0.connections.values) }
        for channel in remaining {
            try? await channel.close().get()
        }
        continuation.yield(.stopped)
        continuation.finish()
        return remaining.count
    }

    /// The warm pool's state; nil when `configuration.warmPool` is 0.
    public var warmPoolStatus: WarmPoolStatus? { pool?.status }

    /// Number of client connections currently open.
    public var openConnections: Int { state.withLockedValue { $0.connections.count } }

    /// Whether the proxy takes new connections now: listening, not stopping, below
    /// `maxConnections`. For readiness probes; it does not dial the router.
    public var status: LocalProxyStatus {
        state.withLockedValue { state in
            LocalProxyStatus(
                listening: !state.listener.isEmpty && !state.stopping, draining: state.stopping,
                openConnections: state.connections.count, maxConnections: configuration.maxConnections)
        }
    }

    private func accept(_ channel: Channel) throws {
        let key = ObjectIdentifier(channel)
        let limit = configuration.maxConnections
        let admitted = state.withLockedValue { state -> Bool? in
            guard !state.stopping else { return nil }
            let full = limit.map { state.connections.count >= $0 } ?? false
            state.connections[key] = channel
            return !full
        }
        guard let admitted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [state] _ in
            state.withLockedValue { _ = $0.connections.removeValue(forKey: key) }
        }
        let newest = current.withLockedValue { $0 }
        let postgres = databaseProtocol.isPostgresWire
        let mongo = databaseProtocol == .mongodb
        let firstMongoRequest = MongoFirstRequest()
        let tunnel = Tunnel(
            client: channel, id: connectionIDs.next(), configuration: configuration, sslContext: newest.sslContext,
            identity: newest.identity, now: now, logger: logger, hasPrelude: postgres || mongo,
            nativeError: mongo ? Self.mongoError(firstMongoRequest) : Self.nativeError(for: databaseProtocol),
            refusal: admitted ? nil : .tooManyConnections(limit: limit ?? 0),
            pool: pool.map { ($0, newest.generation) },
            emit: { [continuation] in continuation.yield($0) })
        let operations = channel.pipeline.syncOperations
        if mongo {
            try operations.addHandler(MongoClientStreamHandler(localTLS: localTLSContext, tunnel: tunnel, firstRequest: firstMongoRequest))
        }
        if postgres {
            try operations.addHandler(PostgresPreludeHandler(localTLS: localTLSContext, tunnel: tunnel))
        }
        if databaseProtocol == .mysql, let localTLSContext {
            try operations.addHandler(MySQLLocalTLSHandler(tlsContext: localTLSContext))
        }
        // Dial only once the client channel is active, so the tunnel never races its activation.
        try operations.addHandler(InboundHoldHandler(onActive: { tunnel.open() }))
    }
}

extension LocalProxy {
    /// How a refusal is told to a client of `databaseProtocol`, where its protocol has a way.
    static func nativeError(for databaseProtocol: DatabaseProtocol) -> ((LocalProxyError, ByteBufferAllocator) -> ByteBuffer)? {
        if databaseProtocol.isPostgresWire {
            return { error, allocator in
                var buffer = allocator.buffer(capacity: 256)
                error.postgresErrorResponse.write(into: &buffer)
                return buffer
            }
        }
        if databaseProtocol == .mysql {
            // The server speaks first, so the error takes the greeting's place.
            return { error, allocator in error.mysqlErrorPacket(allocator: allocator) }
        }
        return nil
    }

    /// A MongoDB client is told as the reply to its first request; before it has sent one (the
    /// tunnel waits for it) there is nothing to reply to, and the connection just closes.
    static func mongoError(_ first: MongoFirstRequest) -> (LocalProxyError, ByteBufferAllocator) -> ByteBuffer {
        { error, _ in first.header.map { error.mongoErrorReply(replyingTo: $0) } ?? ByteBuffer() }
    }
}

/// Errors starting a local proxy.
public enum LocalProxyStartError: Error, CustomStringConvertible {
    case noLocalAddress

    public var description: String {
        switch self {
        case .noLocalAddress: "the listener has no local address"
        }
    }
}
