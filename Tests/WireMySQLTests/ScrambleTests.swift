import Testing
import WireMySQL

/// Expected values computed independently with Python's hashlib; the nonce is bytes 1...20:
///
///     python3 -c "import hashlib; n=bytes(range(1,21)); p=b'alice-pw'; s1=hashlib.sha1(p).digest(); \
///       print(bytes(a^b for a,b in zip(s1,hashlib.sha1(n+hashlib.sha1(s1).digest()).digest())).hex()); \
///       s1=hashlib.sha256(p).digest(); \
///       print(bytes(a^b for a,b in zip(s1,hashlib.sha256(hashlib.sha256(s1).digest()+n).digest())).hex())"
///
/// (and the same with p=b'secret').
@Suite("Password scrambles")
struct ScrambleTests {
    static let nonce = Array(UInt8(1)...20)

    @Test("mysql_native_password matches hashlib", arguments: [
        ("alice-pw", "13f3b0a0d598031a51591a007ade9968925bfedf"),
        ("secret", "b32bb3a583e1340c0a1108d58b1be49781ad8c2f"),
    ])
    func native(password: String, expected: String) {
        #expect(MySQLScramble.nativePassword(password, nonce: Self.nonce) == hex(expected))
    }

    @Test("caching_sha2_password matches hashlib", arguments: [
        ("alice-pw", "2a9209202f0727056b52fd0010b94d3527ee636cbaf8d972144714f087d4a505"),
        ("secret", "746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9"),
    ])
    func cachingSHA2(password: String, expected: String) {
        #expect(MySQLScramble.cachingSHA2Password(password, nonce: Self.nonce) == hex(expected))
    }

    @Test("an empty password gives an empty response")
    func emptyPassword() {
        #expect(MySQLScramble.nativePassword("", nonce: Self.nonce).isEmpty)
        #expect(MySQLScramble.cachingSHA2Password("", nonce: Self.nonce).isEmpty)
    }

    @Test("the real mariadb client's answer equals our scramble of the captured greeting's nonce")
    func matchesCapturedClient() throws {
        let greeting = try MySQLHandshakeV10(decoding: try Golden.packets("alice.server.bin")[0].payload)
        let response = try MySQLHandshakeResponse41(decoding: try Golden.packets("alice.client.bin")[0].payload)
        #expect(greeting.authPluginData.count == 20)
        #expect(response.authResponse == MySQLScramble.nativePassword("alice-pw", nonce: greeting.authPluginData))
        let wrong = try MySQLHandshakeV10(decoding: try Golden.packets("alice-wrong-password.server.bin")[0].payload)
        let wrongResponse = try MySQLHandshakeResponse41(decoding: try Golden.packets("alice-wrong-password.client.bin")[0].payload)
        #expect(wrongResponse.authResponse == MySQLScramble.nativePassword("not-alices-password", nonce: wrong.authPluginData))
    }
}
