import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ProxyCore

/// The router: one TLS port that terminates or passes through TLS, verifies client
/// certificates and sends each connection to a database, a forward target or a TLS backend.
///
///     let router = Router(configuration: configuration)
///     let address = try await router.start()
///     for await event in router.events { ... }
///     await router.stop()
public final class Router: Sendable {
    /// The configuration in use: the one given at init, or the last one `reload` accepted.
    public var configuration: RouterConfiguration { current.withLockedValue { $0.configuration } }
    /// What the router does, as it happens. Finishes after `stop()`.
    public let events: AsyncStream<RouterEvent>
    /// The audit log of database sessions, from the configuration at init (nil: none). A
    /// reload does not change it.
    public let audit: AuditLog?

    private let group: any EventLoopGroup
    private let logger: Logger
    private let continuation: AsyncStream<RouterEvent>.Continuation
    private let state = NIOLockedValueBox(State())
    private let connectionIDs = ConnectionIDs()
    /// Connections counted per client address against `configuration.connectionLimits`; kept
    /// across reloads.
    private let admission: RouterAdmission
    /// What new connections use; replaced whole by `reload`.
    private let current: NIOLockedValueBox<Current>

    private struct Current {
        var configuration: RouterConfiguration
        var shared: RouterShared?
    }

    private struct State {
        /// The main listener: one socket per event loop (`PerLoopListeners`).
        var listener: [Channel] = []
        /// The `postgres_listen_addr`, `mysql_listen_addr` and `mongo_listen_addr` listeners
        /// that are configured, each one socket per event loop.
        var protocolListeners: [RouterListener: [Channel]] = [:]
        var connections: [ObjectIdentifier: Channel] = [:]
        var stopping = false
    }

    public init(
        configuration: RouterConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "dbproxy.router")
    ) {
        self.current = NIOLockedValueBox(Current(configuration: configuration))
        self.group = group
        self.logger = logger
        self.audit = configuration.audit.map { AuditLog(configuration: $0, logger: logger) }
        self.admission = RouterAdmission(limits: configuration.connectionLimits)
        (events, continuation) = AsyncStream.makeStream(of: RouterEvent.self, bufferingPolicy: .bufferingNewest(1024))
    }

    /// Builds the TLS contexts, binds the listener and returns its address.
    public func start() async throws -> SocketAddress {
        let configuration = self.configuration
        let shared = try makeShared(configuration)
        try audit?.start()
        current.withLockedValue { $0.shared = shared }
        let listener = try await bind(configuration.listenAddress, shared: shared, listener: .main)
        state.withLockedValue { $0.listener = listener }
        guard let address = listener.first?.localAddress else { throw RouterStartError.noLocalAddress }
        let protocolListeners: [(RouterListener, HostAndPort?, String)] = [
            (.postgres, configuration.postgresListenAddress, "PostgreSQL"),
            (.mysql, configuration.mysqlListenAddress, "MySQL"),
            (.mongo, configuration.mongoListenAddress, "MongoDB"),
        ]
        for case let (kind, address?, clients) in protocolListeners {
            do {
                let channels = try await bind(address, shared: shared, listener: kind)
                state.withLockedValue { $0.protocolListeners[kind] = channels }
                logger.info("router listening for \(clients) clients", metadata: [
                    "address": "\(channels.first?.localAddress?.description ?? "-")", "key": "\(kind.configurationKey)",
                ])
            } catch {
                let opened = state.withLockedValue { state in
                    defer { state.protocolListeners = [:] }
                    return listener + state.protocolListeners.values.flatMap { $0 }
                }
                for channel in opened { try? await channel.close().get() }
                throw RouterStartError.cannotListen(key: kind.configurationKey, address: address, reason: "\(error)")
            }
        }
        logger.info("router listening", metadata: ["address": "\(address)"])
        continuation.yield(.listening(address))
        return address
    }

    /// Binds a listener: one socket per event loop, each keeping its connections on its loop.
    private func bind(_ address: HostAndPort, shared: RouterShared, listener: RouterListener) async throws -> [Channel] {
        try await PerLoopListeners.bind(group: group, host: address.host, port: address.port) { bootstrap in
            listenerBootstrap(bootstrap, shared: shared, listener: listener)
        }
    }

    /// A listener's bootstrap.
    private func listenerBootstrap(_ bootstrap: ServerBootstrap, shared: RouterShared, listener: RouterListener) -> ServerBootstrap {
        let current = self.current
        return bootstrap
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .proxiedChildOptions()
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    var shared = current.withLockedValue { $0.shared } ?? shared
                    shared.listener = listener
                    try self.accept(channel, shared: shared)
                }
            }
    }

    /// The address of the `postgres_listen_addr` listener while it listens (nil: none).
    public var postgresListenerAddress: SocketAddress? {
        state.withLockedValue { $0.protocolListeners[.postgres]?.first?.localAddress }
    }

    /// The address of the `mysql_listen_addr` listener while it listens (nil: none).
    public var mysqlListenerAddress: SocketAddress? {
        state.withLockedValue { $0.protocolListeners[.mysql]?.first?.localAddress }
    }

    /// The address of the `mongo_listen_addr` listener while it listens (nil: none).
    public var mongoListenerAddress: SocketAddress? {
        state.withLockedValue { $0.protocolListeners[.mongo]?.first?.localAddress }
    }

    /// Stops accepting, lets open connections finish until `deadline`, then closes the rest.
    public func stop(deadline: NIODeadline = .now() + .seconds(5)) async {
        let listeners = state.withLockedValue { state -> [Channel] in
            state.stopping = true
            return state.listener + state.protocolListeners.values.flatMap { $0 }
        }
        for listener in listeners { try? await listener.close().get() }
        while NIODeadline.now() < deadline, !(state.withLockedValue { $0.connections.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let remaining = state.withLockedValue { Array($0.connections.values) }
        for channel in remaining {
            try? await channel.close().get()
        }
        if let audit {
            for channel in remaining { try? await channel.closeFuture.get() }
            await audit.shutdown()
        }
        continuation.yield(.stopped)
        continuation.finish()
    }

    /// Number of connections currently open.
    public var openConnections: Int { state.withLockedValue { $0.connections.count } }

    /// Connections open from the client address `host` (an IP address), as counted for
    /// `connection_limits`: the PROXY protocol source from a trusted load balancer, else the
    /// socket peer.
    public func openConnections(from host: String) -> Int {
        admission.openConnections(from: host)
    }

    /// Client addresses the connection limits remember now: those with connections open or
    /// whose rate buckets have not filled up again.
    public var trackedClientAddresses: Int { admission.trackedClients() }

    /// Whether the router takes connections now (listening, not stopping), for readiness probes.
    public var isReady: Bool { state.withLockedValue { !$0.listener.isEmpty && !$0.stopping } }

    private func accept(_ channel: Channel, shared: RouterShared) throws {
        let key = ObjectIdentifier(channel)
        let admitted = state.withLockedValue { state -> Bool in
            guard !state.stopping else { return false }
            state.connections[key] = channel
            return true
        }
        guard admitted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [state] _ in
            state.withLockedValue { _ = $0.connections.removeValue(forKey: key) }
        }
        var shared = shared
        shared.audit = audit
        shared.admission = admission
        let connection = RouterConnection(channel: channel, id: connectionIDs.next(), shared: shared)
        try connection.start()
    }

    /// Builds every TLS context the router would use (server certificate with its key, client
    /// CA, database CAs) without listening: throws what `start()` would.
    public func validateTLS() throws {
        _ = try makeShared(configuration)
    }

    /// Puts `configuration` in place for new connections: certificates, client CA, routes,
    /// databases, timeouts. Open connections keep what they started with. Throws, changing
    /// nothing, when its TLS material is unusable. The listening address cannot change without
    /// a restart: a new one is reported in the result and ignored.
    @discardableResult
    public func reload(_ configuration: RouterConfiguration) throws -> RouterReload {
        let shared = try makeShared(configuration)
        let listening = current.withLockedValue { current -> HostAndPort in
            let listening = current.configuration.listenAddress
            var accepted = configuration
            accepted.listenAddress = listening
            accepted.postgresListenAddress = current.configuration.postgresListenAddress
            accepted.mysqlListenAddress = current.configuration.mysqlListenAddress
            accepted.mongoListenAddress = current.configuration.mongoListenAddress
            current.configuration = accepted
            if current.shared != nil { current.shared = shared }
            return listening
        }
        admission.update(configuration.connectionLimits)
        let ignored = configuration.listenAddress == listening ? nil : configuration.listenAddress
        logger.notice("configuration reloaded", metadata: [
            "databases": "\(configuration.databases.count)", "routes": "\(configuration.routes.count)",
            "ignored_listen_address": "\(ignored?.description ?? "-")",
        ])
        return RouterReload(databases: configuration.databases.count, routes: configuration.routes.count, ignoredListenAddress: ignored)
    }

    /// Builds the TLS contexts new connections use: for each server keypair, one per selection
    /// that terminates TLS (the database route and every `forward` route).
    private func makeShared(_ configuration: RouterConfiguration) throws -> RouterShared {
        let table = RouteTable(
            routes: configuration.routes, databases: configuration.databases, pingFraming: configuration.pingFraming,
            clusters: configuration.clusters)
        let keypairs = configuration.keypairs
        func context(_ selection: RouteTable.Selection, _ keypair: ServerKeypair) throws -> NIOSSLContext {
            let tls = TLSConfiguration.routerServer(
                certificateChain: keypair.certificateChain, privateKey: keypair.privateKey,
                clientCA: configuration.clientCA,
                requireClientCertificate: table.clientCertificatePolicy(for: selection) == .required,
                applicationProtocols: table.advertisedProtocols(for: selection))
            return try NIOSSLContext(configuration: tls)
        }
        var contexts: [RouterShared.KeypairContexts] = []
        for keypair in keypairs {
            var routeContexts: [Int: NIOSSLContext] = [:]
            for (index, route) in configuration.routes.enumerated() where !route.action.passesTLSThrough {
                routeContexts[index] = try context(.route(index: index), keypair)
            }
            contexts.append(RouterShared.KeypairContexts(database: try context(.database, keypair), routes: routeContexts))
        }
        let continuation = self.continuation
        var backendContexts: [String: NIOSSLContext] = [:]
        for database in configuration.databases {
            if let tls = database.tls.clientConfiguration() { backendContexts[database.name] = try NIOSSLContext(configuration: tls) }
        }
        var plainPostgres = TLSConfiguration.plainPostgresServer(
            certificateChain: configuration.certificateChain, privateKey: configuration.privateKey, clientCA: configuration.clientCA)
        if keypairs.count > 1 { plainPostgres.sslContextCallback = Self.keypairCallback(keypairs) }
        var shared = RouterShared(
            table: table, keypairChooser: ServerKeypairChooser(keypairs), contexts: contexts,
            backendContexts: backendContexts,
            timeouts: configuration.timeouts, proxyProtocol: configuration.proxyProtocol,
            plainPostgresContext: try NIOSSLContext(configuration: plainPostgres),
            pingInterval: configuration.pingInterval, logger: logger,
            emit: { continuation.yield($0) })
        if configuration.mysqlListenAddress != nil {
            var mysql = TLSConfiguration.mysqlListenerServer(
                certificateChain: configuration.certificateChain, privateKey: configuration.privateKey, clientCA: configuration.clientCA)
            if keypairs.count > 1 { mysql.sslContextCallback = Self.keypairCallback(keypairs) }
            shared.mysqlContext = try NIOSSLContext(configuration: mysql)
            shared.mysqlServerVersion = configuration.mysqlServerVersion
        }
        if configuration.mongoListenAddress != nil {
            var mongo = TLSConfiguration.mongoListenerServer(
                certificateChain: configuration.certificateChain, privateKey: configuration.privateKey, clientCA: configuration.clientCA)
            if keypairs.count > 1 { mongo.sslContextCallback = Self.keypairCallback(keypairs) }
            shared.mongoContext = try NIOSSLContext(configuration: mongo)
        }
        return shared
    }

    /// Chooses the keypair during the handshake, for TLS whose ClientHello the router does not
    /// see first (PostgreSQL clients that start with an SSLRequest).
    private static func keypairCallback(_ keypairs: [ServerKeypair]) -> NIOSSLContextCallback {
        let chooser = ServerKeypairChooser(keypairs)
        return { values, promise in
            let index = chooser.index(for: values.serverHostname)
            guard index > 0, keypairs.indices.contains(index) else { return promise.succeed(NIOSSLContextConfigurationOverride()) }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = keypairs[index].certificateChain.map { .certificate($0) }
            override.privateKey = .privateKey(keypairs[index].privateKey)
            promise.succeed(override)
        }
    }
}

/// What `Router.reload` put in place.
public struct RouterReload: Sendable, Hashable {
    public var databases: Int
    public var routes: Int
    /// A new listening address, which needs a restart; nil when it did not change.
    public var ignoredListenAddress: HostAndPort?
}

/// Errors starting a router.
public enum RouterStartError: Error, CustomStringConvertible {
    case noLocalAddress
    /// A protocol listener (`postgres_listen_addr` ...) could not be opened.
    case cannotListen(key: String, address: HostAndPort, reason: String)

    public var description: String {
        switch self {
        case .noLocalAddress: "the listener has no local address"
        case .cannotListen(let key, let address, let reason): "cannot listen on \(key) \(address): \(reason)"
        }
    }
}
