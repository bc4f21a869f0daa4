import NIOCore

/// The body of an Authentication (`R`) message from the server.
public enum PostgresAuthenticationRequest: Sendable, Hashable {
    /// 0: AuthenticationOk.
    case ok
    /// 3: AuthenticationCleartextPassword.
    case cleartextPassword
    /// 5: AuthenticationMD5Password with its 4-byte salt.
    case md5Password(salt: [UInt8])
    /// 10: AuthenticationSASL with the mechanisms offered, in server order.
    case sasl(mechanisms: [String])
    /// 11: AuthenticationSASLContinue with the server's SASL data.
    case saslContinue([UInt8])
    /// 12: AuthenticationSASLFinal with the server's SASL data.
    case saslFinal([UInt8])
    /// Any other code (2 Kerberos V5, 7 GSS, 8 GSSContinue, 9 SSPI, ...); its data is ignored.
    case other(code: Int32)

    /// Parses the body of an `R` message. Fixed-size requests must have exactly their size.
    public init(decodingBody body: ByteBuffer) throws(PostgresWireError) {
        var body = body
        guard let code = body.readInteger(as: Int32.self) else {
            throw PostgresWireError("authentication request is shorter than its 4-byte code")
        }
        switch code {
        case 0:
            try Self.requireEnd(body, code: code)
            self = .ok
        case 3:
            try Self.requireEnd(body, code: code)
            self = .cleartextPassword
        case 5:
            guard body.readableBytes == 4, let salt = body.readBytes(length: 4) else {
                throw PostgresWireError("AuthenticationMD5Password must carry a 4-byte salt, got \(body.readableBytes) bytes")
            }
            self = .md5Password(salt: salt)
        case 10:
            self = .sasl(mechanisms: try Self.readMechanisms(&body))
        case 11:
            self = .saslContinue(body.readBytes(length: body.readableBytes) ?? [])
        case 12:
            self = .saslFinal(body.readBytes(length: body.readableBytes) ?? [])
        default:
            self = .other(code: code)
        }
    }

    /// Writes the whole `R` message.
    public func write(into buffer: inout ByteBuffer) {
        var body = ByteBuffer()
        switch self {
        case .ok: body.writeInteger(Int32(0))
        case .cleartextPassword: body.writeInteger(Int32(3))
        case .md5Password(let salt):
            body.writeInteger(Int32(5))
            body.writeBytes(salt)
        case .sasl(let mechanisms):
            body.writeInteger(Int32(10))
            for mechanism in mechanisms { body.writePostgresCString(mechanism) }
            body.writeInteger(UInt8(0))
        case .saslContinue(let data):
            body.writeInteger(Int32(11))
            body.writeBytes(data)
        case .saslFinal(let data):
            body.writeInteger(Int32(12))
            body.writeBytes(data)
        case .other(let code): body.writeInteger(code)
        }
        PostgresMessage(type: PostgresMessageType.authentication, body: body).write(into: &buffer)
    }

    private static func requireEnd(_ body: ByteBuffer, code: Int32) throws(PostgresWireError) {
        guard body.readableBytes == 0 else {
            throw PostgresWireError("authentication request \(code) has \(body.readableBytes) unexpected trailing bytes")
        }
    }

    private static func readMechanisms(_ body: inout ByteBuffer) throws(PostgresWireError) -> [String] {
        var mechanisms: [String] = []
        while true {
            guard let mechanism = try body.readPostgresCString(what: "a SASL mechanism name") else {
                throw PostgresWireError("AuthenticationSASL mechanism list is not terminated")
            }
            if mechanism.isEmpty { break }
            mechanisms.append(mechanism)
        }
        guard body.readableBytes == 0 else {
            throw PostgresWireError("\(body.readableBytes) bytes follow the AuthenticationSASL mechanism list")
        }
        return mechanisms
    }
}
