import FuzzSupport
import Foundation
import NIOCore
import ProxyCore
import ServerALPN
import WireMySQL

// MySQL packet framing, the connection-phase packets (HandshakeV10, SSLRequest /
// HandshakeResponse41, OK, ERR, AuthSwitch) and the router's connection-phase state machine.
// Invariants: framing consumes exactly header + payload and never more than it was given, and
// re-frames to the same bytes; a packet that decodes re-encodes to bytes that decode to a value
// encoding to the same bytes again; the router session sends only whole frames, fails with one
// ERR packet, never passes on a login the certificate does not admit, and never sends a clear
// text password to a database reached without TLS.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMySQL(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = fuzzBuffer(start, count)
    for packet in checkFraming(input) { checkPayload(packet.payload) }
    var session = SessionRun(input)
    session.run()
    return 0
}

func checkFraming(_ input: ByteBuffer) -> [MySQLPacket] {
    var decoder = MySQLPacketDecoder()
    var buffer = input
    var packets: [MySQLPacket] = []
    while true {
        let before = buffer.readableBytes
        guard let packet = try? decoder.decode(&buffer) else {
            require(buffer.readableBytes == before, "a frame that did not decode consumed bytes")
            break
        }
        require(before - buffer.readableBytes == 4 + packet.payload.readableBytes, "frame size does not match its payload")
        require(packet.payload.readableBytes <= MySQLPacketLimits.maximumFramePayload, "frame over the limit")
        var encoded = ByteBuffer()
        packet.write(into: &encoded)
        require(encoded == input.getSlice(at: input.readerIndex + input.readableBytes - before, length: before - buffer.readableBytes), "frame does not re-encode to its bytes")
        packets.append(packet)
    }
    return packets
}

/// decode(encode(value)) encodes to the same bytes as value.
func requireStableEncoding<Value>(_ value: Value, _ what: String, encode: (Value, inout ByteBuffer) -> Void, decode: (ByteBuffer) throws -> Value) {
    var first = ByteBuffer()
    encode(value, &first)
    guard let again = try? decode(first) else {
        require(false, "\(what) does not decode from its own encoding: \(value)")
        return
    }
    var second = ByteBuffer()
    encode(again, &second)
    require(first == second, "\(what) encoding is not stable: \(value) then \(again)")
}

func checkPayload(_ payload: ByteBuffer) {
    if let greeting = try? MySQLHandshakeV10(decoding: payload) {
        requireStableEncoding(greeting, "HandshakeV10", encode: { $0.write(into: &$1) }, decode: { try MySQLHandshakeV10(decoding: $0) })
    }
    if let handshake = try? MySQLClientHandshake(decoding: payload) {
        switch handshake {
        case .sslRequest(let request):
            var bytes = ByteBuffer()
            request.write(into: &bytes)
            require((try? MySQLClientHandshake(decoding: bytes)) == handshake, "SSLRequest round trip differs: \(request)")
        case .response(let response):
            requireStableEncoding(response, "HandshakeResponse41", encode: { $0.write(into: &$1) }, decode: { try MySQLHandshakeResponse41(decoding: $0) })
        }
    }
    if let ok = try? MySQLOKPacket(decoding: payload) {
        requireStableEncoding(ok, "OK", encode: { $0.write(into: &$1) }, decode: { try MySQLOKPacket(decoding: $0) })
    }
    if let error = try? MySQLErrorPacket(decoding: payload) {
        requireStableEncoding(error, "ERR", encode: { $0.write(into: &$1) }, decode: { try MySQLErrorPacket(decoding: $0) })
    }
    if let authSwitch = try? MySQLAuthSwitchRequest(decoding: payload) {
        requireStableEncoding(authSwitch, "AuthSwitchRequest", encode: { $0.write(into: &$1) }, decode: { try MySQLAuthSwitchRequest(decoding: $0) })
    }
}

/// Drives a `MySQLRouterSession` the way the router's driver does. Input layout: one byte of
/// settings (low nibble: TLS mode; 0x10: the certificate restricts users and databases; 0x20:
/// the client came to `mysql_listen_addr`), then chunks of
/// `[direction and length byte][length bytes]` (bit 7 set: from the client).
struct SessionRun {
    static let identity = CertificateIdentity(
        username: "alice", routeToDatabase: RouteToDatabase(serviceName: "maria", protocolName: "mysql", username: "alice", database: "app"),
        notBefore: Date(timeIntervalSince1970: 0), notAfter: Date(timeIntervalSince1970: 4_000_000_000))

    var input: ByteBuffer
    var session: MySQLRouterSession
    let tlsMode: DatabaseTLS.Mode
    let identity: CertificateIdentity?
    var ended = false
    var loginSeen = false

    init(_ input: ByteBuffer) {
        var input = input
        let settings = input.readInteger(as: UInt8.self) ?? 0
        let modes = DatabaseTLS.Mode.allCases
        tlsMode = modes[Int(settings & 0x0F) % modes.count]
        identity = settings & 0x10 != 0 ? Self.identity : nil
        session = MySQLRouterSession(identity: identity, service: "maria", tlsMode: tlsMode, listener: settings & 0x20 != 0)
        self.input = input
    }

    mutating func run() {
        while !ended, let header = input.readInteger(as: UInt8.self) {
            let length = Int(header & 0x7F)
            guard let chunk = input.readSlice(length: min(length, input.readableBytes)) else { return }
            perform(header & 0x80 != 0 ? session.clientReceived(chunk) : session.backendReceived(chunk))
        }
    }

    mutating func perform(_ actions: [MySQLRouterSession.Action]) {
        for action in actions {
            require(!ended, "an action after the session ended: \(action)")
            switch action {
            case .sendToClient(let bytes):
                _ = wholeFrames(bytes, "to the client")
            case .sendToBackend(let bytes):
                for packet in wholeFrames(bytes, "to the database") { checkToBackend(packet) }
            case .startBackendTLS:
                require(tlsMode != .disable, "TLS to a database whose tls mode is disable")
                perform(session.backendTLSEstablished())
            case .splice(_, let toClient):
                // The OK comes first; what follows is the database's stream, cut anywhere.
                var rest = toClient
                var decoder = MySQLPacketDecoder()
                let ok = try? decoder.decode(&rest)
                require(ok.map { MySQLConnectionPhasePacket(payload: $0.payload) == .ok } ?? false, "a splice that does not start with an OK packet")
                ended = true
            case .fail(let bytes, _):
                let frames = wholeFrames(bytes, "failure")
                require(frames.count == 1 && MySQLConnectionPhasePacket(payload: frames[0].payload) == .error, "a failure that is not one ERR packet")
                ended = true
            case .close:
                ended = true
            }
        }
    }

    /// The login the session passes on is one the certificate admits, and no clear text
    /// password leaves for a database without TLS.
    mutating func checkToBackend(_ packet: MySQLPacket) {
        guard !loginSeen else { return }
        let handshake = try? MySQLClientHandshake(decoding: packet.payload)
        if case .sslRequest? = handshake { return }
        loginSeen = true
        guard case .response(let response)? = handshake else {
            require(false, "the first packet to the database after the greeting is not a login")
            return
        }
        if let identity {
            require(identity.admittedDatabaseUsers.contains(response.username), "login as \(response.username) passed on")
            if let database = response.database, !database.isEmpty {
                require(identity.admittedDatabaseNames.contains(database), "database \(database) passed on")
            }
        }
        if tlsMode == .disable, response.authPluginName == "mysql_clear_password" {
            require(response.authResponse.isEmpty, "clear text password sent without TLS")
        }
    }

    func wholeFrames(_ bytes: ByteBuffer, _ what: String) -> [MySQLPacket] {
        var buffer = bytes
        var decoder = MySQLPacketDecoder()
        var frames: [MySQLPacket] = []
        while let frame = try? decoder.decode(&buffer) { frames.append(frame) }
        require(buffer.readableBytes == 0, "\(what): \(buffer.readableBytes) bytes that are not a whole frame")
        return frames
    }
}
