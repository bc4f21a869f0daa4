import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server for health checks and metrics: GET only, one request per
/// connection (`Connection: close`), bounded request size.
///
///     let server = OperationsServer(address: OperationsAddress(host: "127.0.0.1", port: 9090), routes: [
///         "/liveness": { _ in .text(.ok, "alive\n") },
///     ])
///     let bound = try await server.start()
///     ...
///     await server.stop()
///
/// An unknown path gets 404, another method than GET on a known path 405, request header
/// fields over `Limits.maxHeaderBytes` 431, a body over `Limits.maxBodyBytes` 413, a request
/// that takes longer than `Limits.requestTimeout` to arrive 408, and a malformed request 400; the connection
/// is closed after each response.
public final class OperationsServer: Sendable {
    /// Bounds on what a client may send.
    public struct Limits: Sendable, Hashable {
        /// Request line plus header fields, in bytes.
        public var maxHeaderBytes: Int
        /// Request body, in bytes (GET requests normally have none).
        public var maxBodyBytes: Int
        /// Time from accepting the connection to the end of the request.
        public var requestTimeout: TimeAmount

        /// 16 KiB of header fields, 16 KiB of body, 10 s for the request by default.
        public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 16 * 1024, requestTimeout: TimeAmount = .seconds(10)) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBodyBytes = maxBodyBytes
            self.requestTimeout = requestTimeout
        }
    }

    /// Where the server listens (port 0: any free port; `start` returns the bound address).
    public let address: OperationsAddress
    /// Bounds on requests.
    public let limits: Limits
    private let group: any EventLoopGroup
    private let routes: [String: OperationsRoute]
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private struct State {
        var listener: Channel?
        var connections: [ObjectIdentifier: Channel] = [:]
        var stopped = false
    }

    /// A server for `routes`, keyed by path (e.g. `/metrics`); it does not listen until `start`.
    public init(
        address: OperationsAddress, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        routes: [String: OperationsRoute], limits: Limits = Limits(),
        logger: Logger = Logger(label: "dbproxy.operations")
    ) {
        self.address = address
        self.group = group
        self.routes = routes
        self.limits = limits
        self.logger = logger
    }

    /// Binds the listener and returns its address. Throws when it cannot bind, or when the
    /// server was started or stopped before.
    public func start() async throws -> SocketAddress {
        let alreadyUsed = state.withLockedValue { $0.listener != nil || $0.stopped }
        guard !alreadyUsed else { throw OperationsServerError.alreadyStarted }
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.configure(channel) }
            }
            .bind(host: address.host, port: address.port).get()
        let stoppedMeanwhile = state.withLockedValue { state -> Bool in
            if state.stopped || state.listener != nil { return true }
            state.listener = listener
            return false
        }
        guard !stoppedMeanwhile else {
            try? await listener.close().get()
            throw OperationsServerError.alreadyStarted
        }
        guard let bound = listener.localAddress else { throw OperationsServerError.noLocalAddress }
        logger.info("operations server listening", metadata: ["address": "\(bound)", "paths": "\(routes.keys.sorted())"])
        return bound
    }

    /// Stops listening and closes the connections still open.
    public func stop() async {
        let (listener, connections) = state.withLockedValue { state in
            state.stopped = true
            return (state.listener, Array(state.connections.values))
        }
        try? await listener?.close().get()
        for connection in connections {
            try? await connection.close().get()
        }
    }

    private func configure(_ channel: Channel) throws {
        let key = ObjectIdentifier(channel)
        let admitted = state.withLockedValue { state -> Bool in
            guard !state.stopped else { return false }
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
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(RequestHeadGuard(maxHeaderBytes: limits.maxHeaderBytes))
        try operations.addHandler(HTTPResponseEncoder())
        try operations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        try operations.addHandler(HTTPServerProtocolErrorHandler())
        try operations.addHandler(
            OperationsHTTPHandler(routes: routes, maxBodyBytes: limits.maxBodyBytes, requestTimeout: limits.requestTimeout))
    }
}

/// Errors starting an `OperationsServer`.
public enum OperationsServerError: Error, Hashable, CustomStringConvertible {
    /// `start` was called on a server that was started or stopped before.
    case alreadyStarted
    /// The listener has no local address.
    case noLocalAddress
    /// The listen address is not `host:port`.
    case invalidAddress(String)
    /// Two proxies were given the same name.
    case duplicateName(String)

    /// The error in words.
    public var description: String {
        switch self {
        case .alreadyStarted: "the operations server was already started or stopped"
        case .noLocalAddress: "the operations listener has no local address"
        case .invalidAddress(let text): "not a listen address (host:port): \(text)"
        case .duplicateName(let name): "two proxies are named \(name)"
        }
    }
}
