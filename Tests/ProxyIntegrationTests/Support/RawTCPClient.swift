import NIOCore
import NIOPosix

/// A plain TCP client driven by a test: sends bytes, then reads until `expecting` bytes have
/// arrived, the server closes, or `holdFor` runs out.
enum RawTCPClient {
    struct Outcome: Sendable {
        var received: ByteBuffer
        var closedByServer: Bool
    }

    static func exchange(port: Int, send: [UInt8], expecting: Int? = nil, holdFor: TimeAmount = .seconds(10)) async throws -> Outcome {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: Outcome.self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TCPRecordingHandler(send: send, expecting: expecting, done: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let timer = loop.scheduleTask(in: holdFor) { channel.close(promise: nil) }
        let outcome = try await promise.futureResult.get()
        timer.cancel()
        try? await channel.close().get()
        return outcome
    }
}

private final class TCPRecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let send: [UInt8]
    private let expecting: Int?
    private let done: EventLoopPromise<RawTCPClient.Outcome>
    private var received = ByteBuffer()

    init(send: [UInt8], expecting: Int?, done: EventLoopPromise<RawTCPClient.Outcome>) {
        self.send = send
        self.expecting = expecting
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: send)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received.writeBuffer(&buffer)
        if let expecting, received.readableBytes >= expecting { done.succeed(.init(received: received, closedByServer: false)) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(.init(received: received, closedByServer: true))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A TLS 1.3-shaped ClientHello record carrying just a server name and ALPN values: enough for
/// the router to route on, for tests whose peer behind the router is not a TLS server.
enum SyntheticClientHello {
    static func record(serverName: String?, alpn: [String]) -> [UInt8] {
        var extensions: [UInt8] = []
        if let serverName {
            let host = Array(serverName.utf8)
            let entry: [UInt8] = [0] + u16(host.count) + host
            extensions += u16(0) + u16(entry.count + 2) + u16(entry.count) + entry
        }
        if !alpn.isEmpty {
            let list = alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            extensions += u16(16) + u16(list.count + 2) + u16(list.count) + list
        }
        var body: [UInt8] = [0x03, 0x03] + Array(repeating: 0x5a, count: 32)
        body += [0]  // empty session id
        body += u16(2) + [0x13, 0x01]  // TLS_AES_128_GCM_SHA256
        body += [1, 0]  // null compression
        body += u16(extensions.count) + extensions
        let message: [UInt8] = [1, UInt8(truncatingIfNeeded: body.count >> 16)] + u16(body.count) + body
        return [0x16, 0x03, 0x01] + u16(message.count) + message
    }

    private static func u16(_ value: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
}
