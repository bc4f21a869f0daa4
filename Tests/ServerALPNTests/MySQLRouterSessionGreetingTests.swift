import NIOCore
import ProxyCore
import Testing
import WireMySQL

@testable import ServerALPN

/// The database's first packet: relayed without CLIENT_SSL, passed on when it is an ERR, refused
/// when it is not a greeting or lacks the TLS the configuration asks for.
struct MySQLRouterSessionGreetingTests {
    @Test(arguments: DatabaseTLS.Mode.allCases)
    func greetingReachesClientWithOnlyCLIENT_SSLCleared(mode: DatabaseTLS.Mode) throws {
        let golden = try MySQLGolden.greeting()
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: mode)
        let actions = session.backendReceived(ByteBuffer(bytes: golden))
        try #require(actions.count == 1)
        let relayed = try #require(actions[0].toClient.flatMap(MySQLBytes.packet))
        let original = try #require(MySQLBytes.packet(golden))
        #expect(relayed.sequenceID == 0)

        // Same length; the only byte that differs is the one holding 0x0800 of the lower flags.
        let before = original.payload.bytes, after = relayed.payload.bytes
        try #require(before.count == after.count)
        // protocol byte, version and its NUL, connection id (4), scramble (8), filler, flags.
        let versionEnd = try #require(before[1...].firstIndex(of: 0))
        let sslByte = versionEnd + 4 + 8 + 1 + 2
        let differing = before.indices.filter { before[$0] != after[$0] }
        #expect(differing == [sslByte])
        #expect(before[sslByte] ^ after[sslByte] == 0x08)

        let decodedBefore = try MySQLHandshakeV10(decoding: original.payload)
        var decodedAfter = try MySQLHandshakeV10(decoding: relayed.payload)
        #expect(decodedBefore.capabilities.contains(.ssl))
        #expect(!decodedAfter.capabilities.contains(.ssl))
        decodedAfter.capabilities.insert(.ssl)
        #expect(decodedAfter == decodedBefore)
    }

    @Test func errGreetingGoesToClientAsIsThenClose() throws {
        // What MariaDB sends at max_connections: ERR 1040 before any greeting.
        let err = MySQLBytes.error(code: 1040, state: "08004", message: "Too many connections", sequence: 0)
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: .verifyFull)
        let actions = session.backendReceived(ByteBuffer(bytes: err))
        try #require(actions.count == 2)
        #expect(actions[0].toClient == err)
        #expect(actions[1].closeReason != nil)
        #expect(actions[1].failure == nil)
    }

    @Test func errGreetingWithoutSQLStateIsAlsoPassedOn() throws {
        let err = MySQLBytes.error(code: 1129, state: "", message: "Host '10.0.0.9' is blocked", sequence: 0)
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: .disable)
        let actions = session.backendReceived(ByteBuffer(bytes: err))
        #expect(actions.first?.toClient == err)
        #expect(actions.count == 2 && actions[1].closeReason != nil)
    }

    @Test(arguments: [
        [9, 0x35, 0x2E, 0x30, 0x00],  // protocol 9
        [10, 0x35, 0x2E, 0x30],  // version without its NUL
        [10, 0x35, 0x00, 1, 0, 0, 0, 1, 2, 3],  // cut in the scramble
        [],  // empty payload
    ] as [[UInt8]])
    func malformedGreetingFailsWithHandshakeError(payload: [UInt8]) throws {
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: .disable)
        let actions = session.backendReceived(ByteBuffer(bytes: MySQLBytes.frame(payload, sequence: 0)))
        try #require(actions.count == 1)
        let failure = try #require(actions[0].failure)
        #expect(failure.code == MySQLErrorCode.handshakeError)
        #expect(failure.sqlState == "08S01")
        #expect(failure.sequence == 0)
        #expect(failure.message.hasPrefix("dbproxy router: "))
        #expect(failure.message.contains("greeting"))
    }

    @Test(arguments: [DatabaseTLS.Mode.require, .verifyCA, .verifyFull])
    func greetingWithoutTLSInATLSModeFailsNamingTheMode(mode: DatabaseTLS.Mode) throws {
        let golden = try #require(MySQLBytes.packet(try MySQLGolden.greeting()))
        var greeting = try MySQLHandshakeV10(decoding: golden.payload)
        greeting.capabilities.remove(.ssl)
        var payload = ByteBuffer()
        greeting.write(into: &payload)
        var session = MySQLRouterSession(identity: nil, service: "orders", tlsMode: mode)
        let actions = session.backendReceived(ByteBuffer(bytes: MySQLBytes.frame(payload.bytes, sequence: 0)))
        try #require(actions.count == 1)
        let failure = try #require(actions[0].failure)
        #expect(failure.sequence == 0)
        #expect(failure.code == MySQLErrorCode.unknownError)
        #expect(failure.sqlState == "HY000")
        #expect(failure.message.contains(mode.rawValue))
        #expect(failure.message.contains("\"orders\""))
    }

    @Test func greetingWithoutTLSIsRelayedWhenTLSIsDisabled() throws {
        let golden = try #require(MySQLBytes.packet(try MySQLGolden.greeting()))
        var greeting = try MySQLHandshakeV10(decoding: golden.payload)
        greeting.capabilities.remove(.ssl)
        var payload = ByteBuffer()
        greeting.write(into: &payload)
        let framed = MySQLBytes.frame(payload.bytes, sequence: 0)
        var session = MySQLRouterSession(identity: nil, service: "orders", tlsMode: .disable)
        #expect(session.backendReceived(ByteBuffer(bytes: framed)).map(\.toClient) == [framed])
    }

    @Test func clientBytesBeforeTheGreetingWaitForIt() throws {
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: .disable)
        #expect(session.clientReceived(ByteBuffer(bytes: try MySQLGolden.response())).isEmpty)
        #expect(session.backendTLSEstablished().isEmpty)
    }

    @Test func databaseSpeakingAgainBeforeTheClientAnswersFails() throws {
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: .disable)
        let greeting = try MySQLGolden.greeting()
        let actions = session.backendReceived(ByteBuffer(bytes: greeting + greeting))
        try #require(actions.count == 2)
        #expect(actions[0].toClient != nil)
        #expect(actions[1].failure?.code == MySQLErrorCode.handshakeError)
    }
}
