import Crypto

/// The client side of SCRAM-SHA-256 (RFC 5802 / RFC 7677) without channel binding (GS2 header
/// `n,,`), as PostgreSQL uses it for SASL authentication.
///
/// PostgreSQL ignores the SCRAM user name and authenticates the StartupMessage `user`; libpq
/// sends `n=,r=...`. Pass `username: ""` to do the same; any other name is sent escaped
/// (`=` -> `=3D`, `,` -> `=2C`). The password is used as its UTF-8 bytes (no SASLprep, which
/// changes only unusual non-ASCII passwords).
public struct SCRAMSHA256Client: Sendable {
    /// Iteration counts accepted from the server; the upper bound keeps a hostile server from
    /// making the client burn CPU. PostgreSQL's default is 4096.
    public var iterationLimit: ClosedRange<Int> = 1...10_000_000

    private let username: String
    private let password: String
    private let clientNonce: String
    private var state: State = .initial

    private enum State: Sendable {
        case initial
        case firstSent(bare: String)
        case finalSent(expectedServerSignature: [UInt8])
    }

    /// Creates a client with a given nonce (printable ASCII without commas); for tests.
    public init(username: String, password: String, clientNonce: String) {
        self.username = username
        self.password = password
        self.clientNonce = clientNonce
    }

    /// Creates a client with a random nonce: base64 of 18 random bytes.
    public init(username: String, password: String) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<18).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        self.init(username: username, password: password, clientNonce: Base64.encode(bytes))
    }

    /// The mechanism name for SASLInitialResponse.
    public static let mechanism = "SCRAM-SHA-256"

    /// The client-first message (`n,,n=<user>,r=<nonce>`), the data of SASLInitialResponse.
    public mutating func clientFirstMessage() -> String {
        let bare = "n=\(Self.saslName(username)),r=\(clientNonce)"
        state = .firstSent(bare: bare)
        return Self.gs2Header + bare
    }

    /// Checks the server-first message (nonce extends ours, salt is base64, iteration count in
    /// `iterationLimit`, no mandatory extension) and returns the client-final message with proof.
    public mutating func clientFinalMessage(serverFirst: String) throws(PostgresWireError) -> String {
        guard case .firstSent(let bare) = state else {
            throw PostgresWireError("SCRAM client-final requested before client-first was sent")
        }
        let attributes = try SCRAMAttributes(parsing: serverFirst, what: "server-first message")
        if attributes.pairs.first?.name == "m" {
            throw PostgresWireError("SCRAM server requires an unsupported mandatory extension")
        }
        let nonce = try attributes.require("r", at: 0, what: "server-first message")
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else {
            throw PostgresWireError("SCRAM server nonce does not extend the client nonce")
        }
        guard nonce.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: ",") }) else {
            throw PostgresWireError("SCRAM server nonce has characters outside printable ASCII")
        }
        let saltText = try attributes.require("s", at: 1, what: "server-first message")
        guard let salt = Base64.decode(saltText), !salt.isEmpty else {
            throw PostgresWireError("SCRAM salt '\(saltText)' is not valid base64")
        }
        let iterationText = try attributes.require("i", at: 2, what: "server-first message")
        guard iterationText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let iterations = Int(iterationText), iterationLimit.contains(iterations)
        else {
            throw PostgresWireError(
                "SCRAM iteration count '\(iterationText)' is outside \(iterationLimit.lowerBound)...\(iterationLimit.upperBound)"
            )
        }

        let withoutProof = "c=\(Base64.encode(Array(Self.gs2Header.utf8))),r=\(nonce)"
        let authMessage = Array("\(bare),\(serverFirst),\(withoutProof)".utf8)
        let salted = PBKDF2SHA256.hi(password: Array(password.utf8), salt: salt, iterations: iterations)
        let clientKey = Self.hmac(key: salted, "Client Key")
        let storedKey = Array(SHA256.hash(data: clientKey))
        let clientSignature = Self.hmac(key: storedKey, authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = Self.hmac(key: salted, "Server Key")
        state = .finalSent(expectedServerSignature: Self.hmac(key: serverKey, authMessage))
        return "\(withoutProof),p=\(Base64.encode(proof))"
    }

    /// Checks the server-final message: `v=` must carry the expected server signature; `e=`
    /// (a server-reported failure) throws with the server's reason.
    public func verify(serverFinal: String) throws(PostgresWireError) {
        guard case .finalSent(let expected) = state else {
            throw PostgresWireError("SCRAM server-final checked before client-final was sent")
        }
        let attributes = try SCRAMAttributes(parsing: serverFinal, what: "server-final message")
        if attributes.pairs.first?.name == "e" {
            throw PostgresWireError("SCRAM server reported an error: \(attributes.pairs[0].value)")
        }
        let signatureText = try attributes.require("v", at: 0, what: "server-final message")
        guard let signature = Base64.decode(signatureText) else {
            throw PostgresWireError("SCRAM server signature is not valid base64")
        }
        guard signature.count == expected.count,
              zip(signature, expected).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
        else {
            throw PostgresWireError("SCRAM server signature does not match; the server does not know the password")
        }
    }

    private static let gs2Header = "n,,"

    private static func saslName(_ name: String) -> String {
        var escaped = ""
        for character in name {
            switch character {
            case "=": escaped += "=3D"
            case ",": escaped += "=2C"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    private static func hmac(key: [UInt8], _ message: String) -> [UInt8] {
        hmac(key: key, Array(message.utf8))
    }

    private static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}
