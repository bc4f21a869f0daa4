import Crypto
import NIOCore

/// Frontend answers to authentication requests, all `p` messages.
public enum PostgresAuthenticationResponse {
    /// Writes a PasswordMessage carrying `password` (cleartext, or an MD5 digest string).
    public static func writePassword(_ password: String, into buffer: inout ByteBuffer) {
        var body = ByteBuffer()
        body.writePostgresCString(password)
        PostgresMessage(type: PostgresMessageType.passwordMessage, body: body).write(into: &buffer)
    }

    /// Writes a SASLInitialResponse: mechanism, Int32 data length, data.
    public static func writeSASLInitialResponse(mechanism: String, data: [UInt8], into buffer: inout ByteBuffer) {
        var body = ByteBuffer()
        body.writePostgresCString(mechanism)
        body.writeInteger(Int32(data.count))
        body.writeBytes(data)
        PostgresMessage(type: PostgresMessageType.passwordMessage, body: body).write(into: &buffer)
    }

    /// Writes a SASLResponse carrying `data`.
    public static func writeSASLResponse(_ data: [UInt8], into buffer: inout ByteBuffer) {
        PostgresMessage(type: PostgresMessageType.passwordMessage, body: ByteBuffer(bytes: data)).write(into: &buffer)
    }

    /// The MD5 password string: `md5` + hex(md5(hex(md5(password + user)) + salt)).
    public static func md5Password(user: String, password: String, salt: [UInt8]) -> String {
        let inner = hex(Insecure.MD5.hash(data: Array((password + user).utf8)))
        return "md5" + hex(Insecure.MD5.hash(data: Array(inner.utf8) + salt))
    }

    private static func hex<Digest: Sequence>(_ digest: Digest) -> String where Digest.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
