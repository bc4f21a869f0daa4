import NIOCore
import WireMongo

/// What a MongoDB client sends the local proxy, checked as it passes: a TLS ClientHello first
/// (`mongosh --tls`) starts local TLS when it is configured; then every message header is
/// checked (length 16..maximum, known opcode) without holding messages back. The first header is
/// kept so that a failure can still be told to the driver as the reply to its first request.
/// Pure: the handler performs the actions.
struct MongoClientStream {
    enum Action {
        /// Nothing to do until more bytes arrive.
        case readMore
        /// Start local TLS and feed it `replay` (the ClientHello).
        case startTLS(replay: ByteBuffer)
        /// Pass these bytes on. `firstRequest` is set once, with the first message's header.
        case forward(ByteBuffer, firstRequest: MongoMessageHeader?)
        /// Stop: the connection is closed after `reply` (when the client can read one).
        case fail(reason: String, reply: MongoErrorReply?, replyingTo: MongoMessageHeader?)
    }

    private enum State {
        /// Nothing decided; a TLS ClientHello is still possible.
        case start(ByteBuffer?)
        /// Local TLS is up (or was never asked for): waiting for the first header.
        case awaitingFirstHeader(ByteBuffer?)
        /// The first header passed: every later header is checked by the scanner.
        case streaming
        case failed
    }

    private var state = State.start(nil)
    private var scanner: MongoStreamScanner
    private let localTLS: Bool
    private var firstRequest: MongoMessageHeader?

    init(localTLS: Bool, limits: MongoMessageLimits = MongoMessageLimits()) {
        self.localTLS = localTLS
        self.scanner = MongoStreamScanner(limits: limits)
    }

    mutating func received(_ bytes: ByteBuffer) -> Action {
        switch state {
        case .start(let held):
            var buffer = held ?? ByteBuffer()
            var incoming = bytes
            buffer.writeBuffer(&incoming)
            switch Self.classify(buffer) {
            case nil:
                state = .start(buffer)
                return .readMore
            case .mongo:
                state = .awaitingFirstHeader(nil)
                return received(buffer)
            case .tls:
                guard localTLS else {
                    state = .failed
                    return .fail(reason: "the client started TLS, but local TLS is off (start the proxy with --local-tls, or connect without TLS)",
                                 reply: nil, replyingTo: nil)
                }
                state = .awaitingFirstHeader(nil)
                return .startTLS(replay: buffer)
            }
        case .awaitingFirstHeader(let held):
            var buffer = held ?? ByteBuffer()
            var incoming = bytes
            buffer.writeBuffer(&incoming)
            guard let header = MongoMessageHeader.peek(in: buffer) else {
                state = .awaitingFirstHeader(buffer)
                return .readMore
            }
            state = .streaming
            firstRequest = header
            return scan(buffer, first: header)
        case .streaming:
            return scan(bytes, first: nil)
        case .failed:
            return .readMore
        }
    }

    /// The TLS handshake with the client finished: its first message comes next.
    mutating func tlsEstablished() {
        state = .awaitingFirstHeader(nil)
    }

    private mutating func scan(_ bytes: ByteBuffer, first: MongoMessageHeader?) -> Action {
        do {
            _ = try scanner.scan(bytes)
            return .forward(bytes, firstRequest: first)
        } catch {
            state = .failed
            let reply = MongoErrorReply(message: "dbproxy: \(error)", code: 17, codeName: "ProtocolError")
            return .fail(reason: "\(error)", reply: reply, replyingTo: first ?? firstRequest)
        }
    }

    private enum FirstBytes { case mongo, tls }

    /// A TLS handshake record starts 0x16 0x03. A MongoDB message whose length's low bytes are
    /// 0x0316 starts the same way, so such a start is TLS only when its first 16 bytes are not
    /// a valid message header (a ClientHello's random would have to spell a known opcode).
    /// nil: too few bytes to tell.
    private static func classify(_ bytes: ByteBuffer) -> FirstBytes? {
        let start = bytes.readerIndex
        guard let type = bytes.getInteger(at: start, as: UInt8.self) else { return nil }
        guard type == 0x16 else { return .mongo }
        guard let major = bytes.getInteger(at: start + 1, as: UInt8.self) else { return nil }
        guard major == 0x03 else { return .mongo }
        guard let header = MongoMessageHeader.peek(in: bytes) else { return nil }
        do {
            try MongoMessageLimits().validate(header)
            return .mongo
        } catch {
            return .tls
        }
    }
}
