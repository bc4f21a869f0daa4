import Testing
@testable import WirePostgres

/// SCRAM-SHA-256 client: the RFC 7677 test vector and every rejection.
@Suite("SCRAM-SHA-256 client")
struct SCRAMTests {
    static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    /// RFC 7677's server-final as published: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    static func started() -> SCRAMSHA256Client {
        var client = SCRAMSHA256Client(username: "user", password: "pencil", clientNonce: clientNonce)
        _ = client.clientFirstMessage()
        return client
    }

    static func rejection(serverFirst: String) -> String? {
        var client = started()
        do {
            _ = try client.clientFinalMessage(serverFirst: serverFirst)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("RFC 7677 section 3 test vector")
    func rfc7677() throws {
        var client = SCRAMSHA256Client(username: "user", password: "pencil", clientNonce: Self.clientNonce)
        #expect(client.clientFirstMessage() == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        #expect(try client.clientFinalMessage(serverFirst: Self.serverFirst) == Self.clientFinal)
        try client.verify(serverFinal: Self.serverFinal)
    }

    @Test("a bad server signature is rejected")
    func badSignature() throws {
        var client = Self.started()
        _ = try client.clientFinalMessage(serverFirst: Self.serverFirst)
        // The first is a corrupted copy of the RFC value that circulates (same first 22 characters).
        let finals = [
            "v=6rriTRBi23WpRR/wt/fbHLd6mdkWjQy+0STWSH1Ih+8=", "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95", "v=AAAA",
        ]
        for final in finals {
            let error = #expect(throws: PostgresWireError.self) { try client.verify(serverFinal: final) }
            #expect(error?.message.contains("does not match") == true || error?.message.contains("base64") == true)
        }
    }

    @Test("server-final errors and malformed server-finals are rejected", arguments: [
        ("e=invalid-proof", "invalid-proof"),
        ("v=!!!!", "not valid base64"),
        ("x=abc", "'v='"),
        ("", "empty"),
        ("v", "malformed"),
    ])
    func badServerFinal(final: String, reason: String) throws {
        var client = Self.started()
        _ = try client.clientFinalMessage(serverFirst: Self.serverFirst)
        let error = #expect(throws: PostgresWireError.self) { try client.verify(serverFinal: final) }
        #expect(error?.message.contains(reason) == true, "got \(String(describing: error))")
    }

    @Test("a server nonce that does not extend ours is rejected", arguments: [
        "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEk,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    ])
    func wrongNonce(serverFirst: String) {
        #expect(Self.rejection(serverFirst: serverFirst)?.contains("nonce") == true)
    }

    @Test("iteration counts outside 1...10,000,000 are rejected", arguments: ["0", "-1", "10000001", "99999999999999999999", "", "4096x", "+4096", " 4096"])
    func iterations(count: String) {
        let message = Self.rejection(serverFirst: "r=\(Self.clientNonce)abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=\(count)")
        #expect(message != nil, "i=\(count) accepted")
    }

    @Test("the iteration limit is adjustable")
    func iterationLimit() {
        var client = Self.started()
        client.iterationLimit = 1...4095
        #expect(throws: PostgresWireError.self) { try client.clientFinalMessage(serverFirst: Self.serverFirst) }
    }

    @Test("malformed server-first messages are rejected", arguments: [
        ("", "empty"),
        ("garbage", "malformed"),
        ("r=\(clientNonce)x", "'s='"),
        ("r=\(clientNonce)x,s=W22ZaJ0SNY7soEsUEjb6gQ==", "'i='"),
        ("s=W22ZaJ0SNY7soEsUEjb6gQ==,r=\(clientNonce)x,i=4096", "'r='"),
        ("r=\(clientNonce)x,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==", "'s='"),
        ("r=\(clientNonce)x,s=,i=4096", "empty"),
        ("r=\(clientNonce)x,s=not*base64,i=4096", "base64"),
        ("r=\(clientNonce)x,s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096", "base64"),
        ("r=\(clientNonce)x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,", "malformed"),
        ("r=\(clientNonce)x,,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "malformed"),
        ("rr=\(clientNonce)x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "malformed"),
        ("m=ext,r=\(clientNonce)x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "mandatory extension"),
        ("r=\(clientNonce)x\u{7F},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "printable"),
        ("r=\(clientNonce)xé,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "printable"),
    ])
    func malformed(serverFirst: String, reason: String) {
        let message = Self.rejection(serverFirst: serverFirst)
        #expect(message?.contains(reason) == true, "got \(message ?? "no error")")
    }

    @Test("extensions after the iteration count are tolerated")
    func trailingExtension() throws {
        var client = Self.started()
        #expect(try client.clientFinalMessage(serverFirst: "r=\(Self.clientNonce)x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1,x=y").hasPrefix("c=biws,r="))
    }

    @Test("steps out of order are rejected")
    func outOfOrder() throws {
        var fresh = SCRAMSHA256Client(username: "", password: "p", clientNonce: "abc")
        #expect(throws: PostgresWireError.self) { try fresh.clientFinalMessage(serverFirst: Self.serverFirst) }
        #expect(throws: PostgresWireError.self) { try fresh.verify(serverFinal: Self.serverFinal) }
        let started = Self.started()
        #expect(throws: PostgresWireError.self) { try started.verify(serverFinal: Self.serverFinal) }
    }

    @Test("user names are escaped; PostgreSQL-style empty user name")
    func userNames() {
        var escaped = SCRAMSHA256Client(username: "a=b,c", password: "p", clientNonce: "n")
        #expect(escaped.clientFirstMessage() == "n,,n=a=3Db=2Cc,r=n")
        var empty = SCRAMSHA256Client(username: "", password: "p", clientNonce: "n")
        #expect(empty.clientFirstMessage() == "n,,n=,r=n")
    }

    @Test("random nonces: 24 base64 characters, different each time")
    func randomNonce() {
        var first = SCRAMSHA256Client(username: "", password: "p")
        var second = SCRAMSHA256Client(username: "", password: "p")
        let a = first.clientFirstMessage(), b = second.clientFirstMessage()
        #expect(a.count == "n,,n=,r=".count + 24)
        #expect(!a.dropFirst(8).contains(","))
        #expect(a != b)
    }

    @Test("PBKDF2-HMAC-SHA256 matches RFC 7914's vector (first block)")
    func pbkdf2() {
        let block = PBKDF2SHA256.hi(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1)
        let hex = block.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(hex == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
    }

    @Test("base64 round trips every length and rejects junk")
    func base64() {
        for length in 0...20 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("n,,".utf8)) == "biws")
        for junk in ["a", "ab=c", "=abc", "ab==cdef", "ab$d", "abc==="] {
            #expect(Base64.decode(junk) == nil, "\(junk)")
        }
    }
}
