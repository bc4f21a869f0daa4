import NIOCore

/// First in the pipeline, before the HTTP decoder: answers `431` when the request line and
/// header fields exceed `maxHeaderBytes`, then closes. Once the head has ended it passes bytes
/// through untouched.
final class RequestHeadGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let maxHeaderBytes: Int
    private var scanner = HeadScanner()
    private var headBytes = 0
    private var state = State.readingHead

    private enum State {
        case readingHead, passing, refused
    }

    init(maxHeaderBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .passing:
            context.fireChannelRead(data)
        case .refused:
            return
        case .readingHead:
            let buffer = unwrapInboundIn(data)
            let consumed = scanner.scan(buffer.readableBytesView)
            headBytes += consumed ?? buffer.readableBytes
            if headBytes > maxHeaderBytes {
                refuse(context: context, reason: "request header fields exceed \(maxHeaderBytes) bytes")
                return
            }
            if consumed != nil { state = .passing }
            context.fireChannelRead(data)
        }
    }

    /// Writes a minimal 431 response straight to the socket (the HTTP encoder is further in)
    /// and closes.
    private func refuse(context: ChannelHandlerContext, reason: String) {
        state = .refused
        let body = reason + "\n"
        let text = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// Finds the end of an HTTP/1.1 request head (the first empty line after a non-empty one),
/// across reads. CR is ignored, so both CRLF and bare LF line ends count.
struct HeadScanner {
    private var lineLength = 0
    private var sawLine = false

    /// Scans `bytes`; returns how many of them belong to the head when it ends within them,
    /// nil when it goes on.
    mutating func scan(_ bytes: ByteBufferView) -> Int? {
        var count = 0
        for byte in bytes {
            count += 1
            switch byte {
            case UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "\n"):
                if lineLength == 0, sawLine { return count }
                if lineLength > 0 { sawLine = true }
                lineLength = 0
            default:
                lineLength += 1
            }
        }
        return nil
    }
}
