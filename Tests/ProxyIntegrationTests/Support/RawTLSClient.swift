import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ProxyCore

/// A TLS client driven directly by a test, for what a local proxy would never do: no
/// certificate, odd ALPN values, reading the raw (ping-framed) stream.
enum RawTLSClient {
    struct Outcome: Sendable {
        /// The protocol negotiated, when the handshake completed on this side.
        var negotiatedProtocol: String?
        var handshakeCompleted: Bool
        /// The first error seen, if any.
        var error: String?
        /// Bytes received after the handshake.
        var received: ByteBuffer
        /// The server closed the connection before `holdFor` ran out.
        var closedByServer: Bool
        /// The DER bytes of the leaf certificate the server presented, once the handshake completed.
        var peerCertificateDER: [UInt8]? = nil
    }

    /// Connects, completes (or fails) the handshake, sends `send`, then reads for `holdFor`
    /// or until the server closes.
    static func run(
        port: Int, alpn: [String], material: TLSMaterial?, trustRoots: [NIOSSLCertificate],
        serverName: String? = "localhost", verify: Bool = true, send: [UInt8] = [], holdFor: TimeAmount = .seconds(3),
        expecting: Int? = nil
    ) async throws -> Outcome {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.applicationProtocols = alpn
        tls.trustRoots = .certificates(trustRoots)
        if !verify { tls.certificateVerification = .none }
        if let material {
            tls.certificateChain = material.certificateChain.map { .certificate($0) }
            tls.privateKey = .privateKey(material.privateKey)
        }
        let context = try NIOSSLContext(configuration: tls)
        let recorder = OutcomeRecorder()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: Outcome.self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                    try channel.pipeline.syncOperations.addHandler(RecordingHandler(recorder: recorder, send: send, expecting: expecting, done: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        loop.scheduleTask(in: holdFor) { promise.succeed(recorder.outcome) }
        let outcome = try await promise.futureResult.get()
        try? await channel.close().get()
        return outcome
    }
}

/// Mutable outcome owned by the channel's event loop.
final class OutcomeRecorder: @unchecked Sendable {
    var outcome = RawTLSClient.Outcome(negotiatedProtocol: nil, handshakeCompleted: false, error: nil, received: ByteBuffer(), closedByServer: false)
}

private final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let recorder: OutcomeRecorder
    let send: [UInt8]
    /// Finish as soon as this many bytes have arrived (`holdFor` is then only the limit).
    let expecting: Int?
    let done: EventLoopPromise<RawTLSClient.Outcome>

    init(recorder: OutcomeRecorder, send: [UInt8], expecting: Int?, done: EventLoopPromise<RawTLSClient.Outcome>) {
        self.recorder = recorder
        self.send = send
        self.expecting = expecting
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            recorder.outcome.handshakeCompleted = true
            recorder.outcome.negotiatedProtocol = negotiated
            let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
            recorder.outcome.peerCertificateDER = try? tls?.peerCertificate?.toDERBytes()
            if !send.isEmpty { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: send)), promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        recorder.outcome.received.writeBuffer(&buffer)
        if let expecting, recorder.outcome.received.readableBytes >= expecting { done.succeed(recorder.outcome) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if recorder.outcome.error == nil { recorder.outcome.error = String(describing: error) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        recorder.outcome.closedByServer = true
        done.succeed(recorder.outcome)
    }
}
