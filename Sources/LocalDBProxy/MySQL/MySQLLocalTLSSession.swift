import NIOCore
import WireMySQL

/// TLS between a MySQL client and the local proxy, free of I/O. The router's greeting reaches
/// the client with CLIENT_SSL set; a client that answers with an SSLRequest gets a local TLS
/// handshake, and since the router never sees that SSLRequest, every later packet of the
/// connection phase has its sequence id shifted by one: down towards the router, up towards
/// the client, until the router's OK or ERR. A client that answers in plain text is passed
/// through as it is.
struct MySQLLocalTLSSession {
    enum Action: Equatable {
        /// Pass these bytes on.
        case forward(ByteBuffer)
        /// Start TLS on the client socket and feed it these bytes: a MySQL client does not wait
        /// for an answer to its SSLRequest, so its ClientHello may already be here.
        case startTLS(replay: ByteBuffer)
        /// Refuse: send the client this ERR packet and close.
        case fail(ByteBuffer)
    }

    private enum Phase {
        case awaitingGreeting
        case awaitingClientAnswer
        case awaitingTLS
        case shifted
        case passthrough
    }

    private var phase = Phase.awaitingGreeting
    private var fromRouter = ByteBuffer()
    private var fromClient = ByteBuffer()
    private var routerDecoder = MySQLPacketDecoder()
    private var clientDecoder = MySQLPacketDecoder()
    private var sentResponse = false
    /// The client sent its first command: nothing more of its is renumbered.
    private var clientDone = false

    /// Nothing is renumbered any more in either direction and nothing is held back: every later
    /// byte would pass unchanged, so the handler can leave the pipeline.
    var isTransparent: Bool {
        phase == .passthrough && fromRouter.readableBytes == 0 && fromClient.readableBytes == 0
    }

    /// Bytes from the router on their way to the client.
    mutating func fromRouter(_ bytes: ByteBuffer) -> [Action] {
        if case .passthrough = phase { return [.forward(Self.drain(&fromRouter, then: bytes))] }
        var bytes = bytes
        fromRouter.writeBuffer(&bytes)
        var output = ByteBuffer()
        while phase == .awaitingGreeting || phase == .shifted || phase == .awaitingClientAnswer || phase == .awaitingTLS {
            let start = fromRouter
            let decoded: MySQLPacket?
            do {
                decoded = try routerDecoder.decode(&fromRouter)
            } catch {
                // Not MySQL framing: leave it to the client to make sense of.
                phase = .passthrough
                break
            }
            guard let packet = decoded else { break }
            switch phase {
            case .awaitingGreeting:
                phase = .awaitingClientAnswer
                if var greeting = try? MySQLHandshakeV10(decoding: packet.payload) {
                    greeting.capabilities.insert(.ssl)
                    var payload = ByteBuffer()
                    greeting.write(into: &payload)
                    MySQLPacket(sequenceID: packet.sequenceID, payload: payload).write(into: &output)
                } else {
                    // An ERR in place of the greeting: the client reads it as it is.
                    phase = .passthrough
                    Self.copy(start, upTo: fromRouter, into: &output)
                }
            case .shifted:
                MySQLPacket(sequenceID: packet.sequenceID &+ 1, payload: packet.payload).write(into: &output)
                let kind = MySQLConnectionPhasePacket(payload: packet.payload)
                if kind == .ok || kind == .error { phase = .passthrough }
            default:
                Self.copy(start, upTo: fromRouter, into: &output)
            }
        }
        if case .passthrough = phase { output.writeBuffer(&fromRouter) }
        return output.readableBytes > 0 ? [.forward(output)] : []
    }

    /// Bytes from the client (decrypted once local TLS is up) on their way to the router.
    mutating func fromClient(_ bytes: ByteBuffer) -> [Action] {
        if case .passthrough = phase { return [.forward(Self.drain(&fromClient, then: bytes))] }
        if clientDone { return [.forward(bytes)] }
        var bytes = bytes
        fromClient.writeBuffer(&bytes)
        switch phase {
        case .awaitingGreeting, .awaitingTLS:
            return []  // the client waits for the greeting; during the handshake, bytes are TLS
        case .awaitingClientAnswer:
            var peek = fromClient
            let decoded: MySQLPacket?
            do {
                decoded = try clientDecoder.decode(&peek)
            } catch {
                return passThroughClient()
            }
            guard let packet = decoded else { return [] }
            guard case .sslRequest? = try? MySQLClientHandshake(decoding: packet.payload) else { return passThroughClient() }
            // Whatever follows the SSLRequest is the start of the TLS handshake.
            fromClient.clear()
            phase = .awaitingTLS
            return [.startTLS(replay: peek)]
        case .shifted:
            var output = ByteBuffer()
            while true {
                let packet: MySQLPacket?
                do {
                    packet = try clientDecoder.decode(&fromClient)
                } catch {
                    phase = .passthrough
                    return [.fail(Self.error("malformed packet: \(error.message)", sequence: 0))]
                }
                guard let packet else { break }
                if packet.sequenceID == 0 {
                    // A command: the client's login is over; from here its bytes go out as they are.
                    clientDone = true
                    MySQLPacket(sequenceID: 0, payload: packet.payload).write(into: &output)
                    output.writeBuffer(&fromClient)
                    break
                }
                var payload = packet.payload
                if !sentResponse {
                    // The HandshakeResponse41: the router must see a client that did not ask for TLS.
                    sentResponse = true
                    if let flags = payload.getInteger(at: payload.readerIndex, endianness: .little, as: UInt32.self) {
                        payload.setInteger(flags & ~MySQLCapabilities.ssl.rawValue, at: payload.readerIndex, endianness: .little)
                    }
                }
                MySQLPacket(sequenceID: packet.sequenceID &- 1, payload: payload).write(into: &output)
            }
            return output.readableBytes > 0 ? [.forward(output)] : []
        case .passthrough:
            return [.forward(bytes)]
        }
    }

    /// The local TLS handshake completed: the client's HandshakeResponse41 comes next.
    mutating func tlsEstablished() -> [Action] {
        guard case .awaitingTLS = phase else { return [] }
        phase = .shifted
        return fromClient(ByteBuffer())
    }

    /// The client answered in plain text: from now on nothing is changed in either direction.
    private mutating func passThroughClient() -> [Action] {
        phase = .passthrough
        return [.forward(Self.drain(&fromClient, then: ByteBuffer()))]
    }

    /// What `pending` held, then `bytes`; `pending` is left empty.
    private static func drain(_ pending: inout ByteBuffer, then bytes: ByteBuffer) -> ByteBuffer {
        guard pending.readableBytes > 0 else { return bytes }
        var all = ByteBuffer()
        all.writeBuffer(&pending)
        all.writeImmutableBuffer(bytes)
        return all
    }

    private static func copy(_ start: ByteBuffer, upTo end: ByteBuffer, into output: inout ByteBuffer) {
        let consumed = start.readableBytes - end.readableBytes
        if let raw = start.getSlice(at: start.readerIndex, length: consumed) { output.writeImmutableBuffer(raw) }
    }

    private static func error(_ message: String, sequence: UInt8) -> ByteBuffer {
        var payload = ByteBuffer()
        MySQLErrorPacket(code: MySQLErrorCode.handshakeError, sqlState: "08S01", message: "dbproxy: \(message)").write(into: &payload)
        var packet = ByteBuffer()
        MySQLPacket(sequenceID: sequence, payload: payload).write(into: &packet)
        return packet
    }
}
