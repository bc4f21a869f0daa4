import Foundation
import NIOCore
import Testing
import WireMySQL

/// Inputs the fuzzers (Fuzz/, scripts/fuzz) found, kept in Tests/Fixtures/fuzz.
@Suite("Fuzzer regressions")
struct FuzzRegressionTests {
    static let directory = Golden.directory  // Tests/Fixtures/wire/mysql
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("fuzz", isDirectory: true)

    /// A greeting re-encoded (as the router does, to clear CLIENT_SSL) decodes to what was sent.
    static func expectStable(_ greeting: MySQLHandshakeV10, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let first = written { greeting.write(into: &$0) }
        let again = try MySQLHandshakeV10(decoding: ByteBuffer(bytes: first))
        #expect(written { again.write(into: &$0) } == first, sourceLocation: sourceLocation)
    }

    @Test("a greeting with secureConnection and no pluginAuth reads a 13-byte second scramble part whatever its length byte says")
    func scrambleLengthWithoutPluginAuth() throws {
        let input = try Data(contentsOf: Self.directory.appendingPathComponent("mysql-greeting-scramble-length-without-plugin-auth.bin"))
        var buffer = ByteBuffer(bytes: input)
        var decoder = MySQLPacketDecoder()
        let packet = try #require(try decoder.decode(&buffer))
        let greeting = try MySQLHandshakeV10(decoding: packet.payload)
        #expect(greeting.capabilities.contains(.secureConnection) && !greeting.capabilities.contains(.pluginAuth))
        #expect(greeting.authPluginData.count <= 8 + 13)
        try Self.expectStable(greeting)
    }

    @Test("a scramble longer than the length byte can say is cut to 254 bytes and stays stable")
    func longScramble() throws {
        let greeting = MySQLHandshakeV10(
            serverVersion: "11.4", connectionID: 7, authPluginData: Array(repeating: 0x41, count: 300),
            capabilities: [.protocol41, .secureConnection, .pluginAuth], characterSet: 45, statusFlags: 2,
            authPluginName: "mysql_native_password")
        let decoded = try MySQLHandshakeV10(decoding: ByteBuffer(bytes: written { greeting.write(into: &$0) }))
        #expect(decoded.authPluginData == Array(repeating: 0x41, count: 254))
        #expect(decoded.authPluginName == "mysql_native_password")
        try Self.expectStable(decoded)
    }
}
