import NIOCore
import ProxyCore
import Testing
import WireMySQL

@testable import ServerALPN

/// TLS mode `disable`: after the greeting, packets pass with their own sequence ids; the OK
/// splices, an ERR is passed on and closes; a client asking for TLS is refused.
struct MySQLRouterSessionPlainTests {
    private func greeted(_ mode: DatabaseTLS.Mode = .disable) throws -> MySQLRouterSession {
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: mode)
        let actions = session.backendReceived(ByteBuffer(bytes: try MySQLGolden.greeting()))
        try #require(actions.count == 1 && actions[0].toClient != nil)
        return session
    }

    @Test func responseIsForwardedByteIdentical() throws {
        var session = try greeted()
        let response = try MySQLGolden.response()
        #expect(MySQLBytes.packet(response)?.sequenceID == 1)
        #expect(session.clientReceived(ByteBuffer(bytes: response)) == [.sendToBackend(ByteBuffer(bytes: response))])
    }

    @Test func aResponseSentBeforeTheGreetingIsReadOnceTheGreetingArrives() throws {
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: .disable)
        let response = try MySQLGolden.response()
        #expect(session.clientReceived(ByteBuffer(bytes: response)).isEmpty)
        let actions = session.backendReceived(ByteBuffer(bytes: try MySQLGolden.greeting()))
        try #require(actions.count == 2)
        #expect(actions[0].toClient != nil)
        #expect(actions[1] == .sendToBackend(ByteBuffer(bytes: response)))
    }

    @Test func okSplicesWithLeftoversInBothDirections() throws {
        var session = try greeted()
        let client = try MySQLGolden.bytes("alice.client")
        let server = try MySQLGolden.bytes("alice.server")
        let response = try MySQLGolden.response()
        let partialQuery = Array(client[response.count..<response.count + 5])  // COM_QUERY, cut
        #expect(session.clientReceived(ByteBuffer(bytes: response + partialQuery)) == [.sendToBackend(ByteBuffer(bytes: response))])

        // The OK, then the `select 1` result set the database already sent.
        let afterGreeting = Array(server[try MySQLGolden.greeting().count...])
        let actions = session.backendReceived(ByteBuffer(bytes: afterGreeting))
        try #require(actions.count == 1)
        let splice = try #require(actions[0].splice)
        #expect(splice.toBackend == partialQuery)
        #expect(splice.toClient == afterGreeting)
        #expect(Array(splice.toClient.prefix(try MySQLGolden.ok().count)) == (try MySQLGolden.ok()))
    }

    @Test func everyClientByteReachesTheDatabaseUnchanged() throws {
        var session = try greeted()
        let client = try MySQLGolden.bytes("alice.client")  // response, COM_QUERY, COM_QUIT
        var toBackend: [UInt8] = []
        for action in session.clientReceived(ByteBuffer(bytes: client)) {
            toBackend += try #require(action.toBackend)
        }
        let actions = session.backendReceived(ByteBuffer(bytes: try MySQLGolden.ok()))
        try #require(actions.count == 1)
        let splice = try #require(actions[0].splice)
        #expect(toBackend + splice.toBackend == client)
        #expect(splice.toClient == (try MySQLGolden.ok()))
    }

    @Test func databaseErrDuringLoginIsPassedOnThenClose() throws {
        var session = try greeted()
        let response = try MySQLGolden.bytes("alice-wrong-password.client")
        #expect(session.clientReceived(ByteBuffer(bytes: response)).map(\.toBackend) == [response])
        let err = try MySQLGolden.accessDenied()
        let actions = session.backendReceived(ByteBuffer(bytes: err + [1, 0, 0, 3, 0]))
        try #require(actions.count == 2)
        #expect(actions[0].toClient == err)
        #expect(actions[1].closeReason != nil)
    }

    @Test func authSwitchAndAnswerKeepTheirSequenceIds() throws {
        var session = try greeted()
        _ = session.clientReceived(ByteBuffer(bytes: try MySQLGolden.response()))
        let authSwitch = MySQLBytes.frame(Self.authSwitchPayload, sequence: 2)
        #expect(session.backendReceived(ByteBuffer(bytes: authSwitch)).map(\.toClient) == [authSwitch])
        let answer = MySQLBytes.frame(Array(repeating: 0x5A, count: 20), sequence: 3)
        #expect(session.clientReceived(ByteBuffer(bytes: answer)).map(\.toBackend) == [answer])
        let ok = MySQLBytes.renumbered(try MySQLGolden.ok(), 4)
        #expect(session.backendReceived(ByteBuffer(bytes: ok)).map(\.splice?.toClient) == [ok])
    }

    @Test(arguments: DatabaseTLS.Mode.allCases)
    func clientSSLRequestFails(mode: DatabaseTLS.Mode) throws {
        var session = try greeted(mode)
        let request = try MySQLGolden.bytes("tlsuser-ssl.client")  // 32-byte SSLRequest, sequence 1
        let packet = try #require(MySQLBytes.packet(request))
        #expect(packet.payload.readableBytes == 32)
        let actions = session.clientReceived(ByteBuffer(bytes: request))
        try #require(actions.count == 1)
        let failure = try #require(actions[0].failure)
        #expect(failure.code == MySQLErrorCode.handshakeError)
        #expect(failure.sqlState == "08S01")
        #expect(failure.sequence == 2)
        #expect(failure.message.contains("TLS"))
    }

    @Test func protocol320ResponseFails() throws {
        var session = try greeted()
        var payload = Array(try MySQLGolden.response().dropFirst(4))
        payload[1] &= ~0x02  // clear CLIENT_PROTOCOL_41 (0x0200)
        let actions = session.clientReceived(ByteBuffer(bytes: MySQLBytes.frame(payload, sequence: 1)))
        try #require(actions.count == 1)
        let failure = try #require(actions[0].failure)
        #expect(failure.code == MySQLErrorCode.handshakeError)
        #expect(failure.sequence == 2)
        #expect(failure.message.contains("4.1"))
    }

    static let authSwitchPayload: [UInt8] = {
        var buffer = ByteBuffer()
        MySQLAuthSwitchRequest(pluginName: "mysql_native_password", pluginData: Array(1...20) + [0]).write(into: &buffer)
        return buffer.bytes
    }()
}
