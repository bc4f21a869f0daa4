import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ProxyCore

/// A TCP (or TLS) connection driven byte by byte by a bad-input test: send exactly these bytes,
/// close the output, read what comes back, see whether and how the other side closed.
final class RawConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [UInt8] = []
    private var consumed = 0
    private var closed = false
    private var firstError: String?
    private var handshake: (done: Bool, negotiated: String?) = (false, nil)
    private var channel: Channel?

    private init() {}

    /// Connects in plain TCP.
    static func plain(port: Int) async throws -> RawConnection {
        let connection = RawConnection()
        connection.channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(connection: connection))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return connection
    }

    /// Connects with TLS and waits until the handshake completed or failed (or the connection
    /// closed); `material` is the client certificate, if any.
    static func tls(
        port: Int, alpn: [String], material: TLSMaterial?, trustRoots: [NIOSSLCertificate], serverName: String? = "localhost"
    ) async throws -> RawConnection {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.applicationProtocols = alpn
        tls.trustRoots = .certificates(trustRoots)
        if let material {
            tls.certificateChain = material.certificateChain.map { .certificate($0) }
            tls.privateKey = .privateKey(material.privateKey)
        }
        let context = try NIOSSLContext(configuration: tls)
        let connection = RawConnection()
        connection.channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                    try channel.pipeline.syncOperations.addHandler(Collector(connection: connection))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await connection.waitFor("the TLS handshake to finish") { $0.handshake.done || $0.closed || $0.firstError != nil }
        return connection
    }

    /// The handshake completed on this side.
    var handshakeCompleted: Bool { lock.withLock { handshake.done } }
    /// The ALPN protocol the server chose.
    var negotiatedProtocol: String? { lock.withLock { handshake.negotiated } }
    /// The first error the connection reported (a TLS alert, a reset), if any.
    var error: String? { lock.withLock { firstError } }
    /// The server closed the connection.
    var isClosed: Bool { lock.withLock { closed } }

    /// Writes `bytes`; a connection the server already closed is not an error here.
    func send(_ bytes: [UInt8]) async {
        guard let channel else { return }
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Closes the output (EOF; over TLS a close_notify first): the input stays open.
    func finishOutput() async {
        try? await channel?.close(mode: .output).get()
    }

    /// The next `count` bytes, or fewer when the server closes first.
    func read(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        try await waitFor("\(count) bytes") { $0.received.count - $0.consumed >= count || $0.closed }
        return lock.withLock {
            let end = min(received.count, consumed + count)
            defer { consumed = end }
            return Array(received[consumed..<end])
        }
    }

    /// The unread bytes once `complete` says they are enough (or the server closed).
    func read(until complete: @escaping ([UInt8]) -> Bool, timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        try await waitFor("a complete answer", timeout: timeout) { $0.closed || complete(Array($0.received[$0.consumed...])) }
        return lock.withLock {
            defer { consumed = received.count }
            return Array(received[consumed...])
        }
    }

    /// Every byte not read yet, once the server has closed the connection; throws when it
    /// is still open after `timeout`.
    func readUntilClosed(timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        try await waitFor("the server to close the connection", timeout: timeout) { $0.closed }
        return lock.withLock {
            defer { consumed = received.count }
            return Array(received[consumed...])
        }
    }

    /// Bytes that arrived within `duration` (the connection may stay open).
    func readFor(_ duration: Duration) async throws -> [UInt8] {
        try await Task.sleep(for: duration)
        return lock.withLock {
            defer { consumed = received.count }
            return Array(received[consumed...])
        }
    }

    func close() async {
        try? await channel?.close().get()
    }

    private func waitFor(_ what: String, timeout: Duration = .seconds(10), _ done: (RawConnection) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if lock.withLock({ done(self) }) { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestTimeout(what: "waited \(timeout) for \(what)")
    }

    fileprivate func append(_ buffer: ByteBuffer) { lock.withLock { received += buffer.readableBytesView } }
    fileprivate func noteClosed() { lock.withLock { closed = true } }
    fileprivate func note(_ error: any Error) { lock.withLock { if firstError == nil { firstError = String(describing: error) } } }
    fileprivate func noteHandshake(_ negotiated: String?) { lock.withLock { handshake = (true, negotiated) } }
}

private final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let connection: RawConnection

    init(connection: RawConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.append(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            connection.noteHandshake(negotiated)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.note(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.noteClosed()
    }
}
