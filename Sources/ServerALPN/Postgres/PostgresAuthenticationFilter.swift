import NIOCore
import WirePostgres

/// The server's messages of the authentication phase on their way to the client, free of I/O.
/// SASL mechanisms that bind to the TLS connection (`SCRAM-SHA-256-PLUS`) are taken out of the
/// offer: that connection is the router's, and the client's TLS (if any) ends elsewhere, so a
/// client that picked one would fail. Every other byte passes unchanged. The filter ends at
/// AuthenticationOk or an ErrorResponse; what follows is spliced untouched.
struct PostgresAuthenticationFilter {
    /// Authentication messages are small; anything larger is not a server in that phase.
    static let maximumMessageLength = 64 * 1024

    private var decoder = PostgresMessageDecoder(maximumLength: maximumMessageLength)
    private var pending = ByteBuffer()
    private(set) var finished = false

    /// Returns the bytes to pass to the client now; after `finished` turns true they include
    /// everything received, unparsed.
    mutating func received(_ bytes: ByteBuffer) throws(PostgresWireError) -> ByteBuffer {
        var bytes = bytes
        guard !finished else { return bytes }
        pending.writeBuffer(&bytes)
        var output = ByteBuffer()
        while !finished {
            let start = pending
            guard let message = try decoder.decode(&pending) else { break }
            let consumed = start.readableBytes - pending.readableBytes
            if message.type == PostgresMessageType.authentication {
                let request = try PostgresAuthenticationRequest(decodingBody: message.body)
                switch request {
                case .sasl(let mechanisms):
                    let usable = mechanisms.filter { !$0.hasSuffix("-PLUS") }
                    if usable.count != mechanisms.count, !usable.isEmpty {
                        PostgresAuthenticationRequest.sasl(mechanisms: usable).write(into: &output)
                        continue
                    }
                case .ok:
                    finished = true
                default:
                    break
                }
            } else if message.type == PostgresMessageType.errorResponse {
                finished = true
            }
            if let raw = start.getSlice(at: start.readerIndex, length: consumed) { output.writeImmutableBuffer(raw) }
        }
        if finished {
            output.writeBuffer(&pending)
        }
        return output
    }
}

/// Between the database connection and the splice during authentication: runs
/// `PostgresAuthenticationFilter`, then leaves the pipeline.
final class PostgresAuthenticationFilterHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var filter = PostgresAuthenticationFilter()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            let output = try filter.received(unwrapInboundIn(data))
            if output.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(output)) }
            if filter.finished {
                context.fireChannelReadComplete()
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }
}
