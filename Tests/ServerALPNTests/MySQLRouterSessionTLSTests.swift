import NIOCore
import ProxyCore
import Testing
import WireMySQL

@testable import ServerALPN

/// A database reached over TLS: the router's SSLRequest takes the client's sequence id, the
/// response follows on TLS one later, and every later packet is shifted by one each way.
struct MySQLRouterSessionTLSTests {
    /// Greeted, answered with alice's response, and asked to start TLS.
    private func awaitingTLS(_ mode: DatabaseTLS.Mode = .verifyFull) throws -> MySQLRouterSession {
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: mode)
        _ = session.backendReceived(ByteBuffer(bytes: try MySQLGolden.greeting()))
        let actions = session.clientReceived(ByteBuffer(bytes: try MySQLGolden.response()))
        try #require(actions.count == 2 && actions[1] == .startBackendTLS)
        return session
    }

    private func authenticating() throws -> MySQLRouterSession {
        var session = try awaitingTLS()
        try #require(session.backendTLSEstablished().count == 1)
        return session
    }

    @Test(arguments: [DatabaseTLS.Mode.require, .verifyCA, .verifyFull])
    func sslRequestCarriesTheClientsSettingsWithSequence1(mode: DatabaseTLS.Mode) throws {
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: mode)
        _ = session.backendReceived(ByteBuffer(bytes: try MySQLGolden.greeting()))
        let responseFrame = try #require(MySQLBytes.packet(try MySQLGolden.response()))
        let response = try MySQLHandshakeResponse41(decoding: responseFrame.payload)
        #expect(!response.capabilities.contains(.ssl))

        let actions = session.clientReceived(ByteBuffer(bytes: try MySQLGolden.response()))
        try #require(actions.count == 2)
        #expect(actions[1] == .startBackendTLS)
        let packet = try #require(actions[0].toBackend.flatMap(MySQLBytes.packet))
        #expect(packet.sequenceID == 1)
        #expect(packet.payload.readableBytes == MySQLSSLRequest.payloadLength)
        guard case .sslRequest(let request) = try MySQLClientHandshake(decoding: packet.payload) else {
            Issue.record("not an SSLRequest: \(packet.payload.bytes)")
            return
        }
        #expect(request.capabilities == response.capabilities.union(.ssl))
        #expect(request.maxPacketSize == response.maxPacketSize)
        #expect(request.characterSet == response.characterSet)
        #expect(request.mariaDBExtendedCapabilities == response.mariaDBExtendedCapabilities)
    }

    @Test func nothingMoreUntilTLSIsUpThenTheResponseWithSequence2() throws {
        var session = try awaitingTLS()
        let answerEarly = MySQLBytes.frame([1, 2, 3], sequence: 3)
        #expect(session.clientReceived(ByteBuffer(bytes: answerEarly)).isEmpty)

        let actions = session.backendTLSEstablished()
        try #require(actions.count == 2)
        let original = try MySQLGolden.response()
        let sent = try #require(actions[0].toBackend)
        try #require(sent.count == original.count)
        // The header's sequence byte and the CLIENT_SSL byte of the flags differ; nothing else.
        #expect(sent[3] == 2)
        #expect(sent.indices.filter { sent[$0] != original[$0] } == [3, 5])
        #expect(sent[5] == original[5] | 0x08)
        let decoded = try MySQLHandshakeResponse41(decoding: try #require(MySQLBytes.packet(sent)).payload)
        #expect(decoded.capabilities.contains(.ssl))
        #expect(decoded.username == "alice" && decoded.database == "appdb")
        // The answer that arrived during the TLS handshake follows, shifted.
        #expect(actions[1].toBackend == MySQLBytes.frame([1, 2, 3], sequence: 4))

        #expect(session.backendTLSEstablished().isEmpty)
    }

    @Test func authSwitchExchangeIsShiftedByOneEachWay() throws {
        var session = try authenticating()
        let payload = MySQLRouterSessionPlainTests.authSwitchPayload
        #expect(session.backendReceived(ByteBuffer(bytes: MySQLBytes.frame(payload, sequence: 3))).map(\.toClient)
            == [MySQLBytes.frame(payload, sequence: 2)])
        let answer = Array(repeating: UInt8(0x5A), count: 20)
        #expect(session.clientReceived(ByteBuffer(bytes: MySQLBytes.frame(answer, sequence: 3))).map(\.toBackend)
            == [MySQLBytes.frame(answer, sequence: 4)])

        let resultSet = Array(try MySQLGolden.bytes("alice.server").dropFirst(try MySQLGolden.greeting().count + MySQLGolden.ok().count))
        let partialQuery: [UInt8] = [9, 0, 0]
        #expect(session.clientReceived(ByteBuffer(bytes: partialQuery)).isEmpty)
        let ok = try MySQLGolden.ok()
        let actions = session.backendReceived(ByteBuffer(bytes: MySQLBytes.renumbered(ok, 5) + resultSet))
        try #require(actions.count == 1)
        let splice = try #require(actions[0].splice)
        #expect(splice.toClient == MySQLBytes.renumbered(ok, 4) + resultSet)
        #expect(splice.toBackend == partialQuery)
    }

    @Test func okRightAfterTheResponseReachesTheClientAsSequence2() throws {
        var session = try authenticating()
        let ok = try MySQLGolden.ok()
        let actions = session.backendReceived(ByteBuffer(bytes: MySQLBytes.renumbered(ok, 3)))
        #expect(actions.map(\.splice?.toClient) == [ok])
        #expect(actions.map(\.splice?.toBackend) == [[]])
    }

    @Test func databaseErrIsRenumberedPassedOnThenClose() throws {
        var session = try authenticating()
        let err = try MySQLGolden.accessDenied()  // sequence 2, as the client expects it
        let actions = session.backendReceived(ByteBuffer(bytes: MySQLBytes.renumbered(err, 3)))
        try #require(actions.count == 2)
        #expect(actions[0].toClient == err)
        #expect(actions[1].closeReason != nil)
        #expect(actions[1].failure == nil)
    }

    @Test func sequenceIdsWrapAround() throws {
        var session = try authenticating()
        let payload = MySQLRouterSessionPlainTests.authSwitchPayload
        #expect(session.backendReceived(ByteBuffer(bytes: MySQLBytes.frame(payload, sequence: 0))).map(\.toClient)
            == [MySQLBytes.frame(payload, sequence: 255)])
        #expect(session.clientReceived(ByteBuffer(bytes: MySQLBytes.frame([7], sequence: 255))).map(\.toBackend)
            == [MySQLBytes.frame([7], sequence: 0)])
    }

    /// A client that sends its first command (sequence 0) right behind its response, before the
    /// OK: the command waits for the OK and then reaches the database as it came, sequence 0.
    @Test func pipelinedCommandKeepsSequence0() throws {
        var session = MySQLRouterSession(identity: nil, service: "mariadb", tlsMode: .verifyFull)
        _ = session.backendReceived(ByteBuffer(bytes: try MySQLGolden.greeting()))
        let frames = try MySQLGolden.frames("alice.client")  // response (1), COM_QUERY (0), COM_QUIT (0)
        #expect(session.clientReceived(ByteBuffer(bytes: frames[0] + frames[1])).count == 2)
        let actions = session.backendTLSEstablished()
        #expect(actions.count == 1, "only the response goes out before the OK: \(actions)")
        let ok = MySQLBytes.frame([0, 0, 0, 2, 0, 0, 0], sequence: 3)
        let splice = session.backendReceived(ByteBuffer(bytes: ok))
        guard case .splice(let toBackend, _)? = splice.first else {
            Issue.record("expected a splice, got \(splice)")
            return
        }
        #expect(Array(toBackend.readableBytesView) == frames[1])
    }
}
