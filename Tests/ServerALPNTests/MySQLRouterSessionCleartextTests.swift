import NIOCore
import Testing
import WireMySQL

@testable import ServerALPN

/// A password in clear text (caching_sha2_password's full authentication, mysql_clear_password)
/// crosses the router only towards a database reached over TLS.
@Suite("MySQLRouterSession: clear-text passwords")
struct MySQLRouterSessionCleartextTests {
    /// A session past the client's response; `mode` decides whether the database hop is TLS.
    private func authenticating(_ mode: DatabaseTLS.Mode) throws -> MySQLRouterSession {
        var session = MySQLRouterSession(identity: nil, service: "mysql8", tlsMode: mode)
        _ = session.backendReceived(ByteBuffer(bytes: try MySQLGolden.greeting()))
        _ = session.clientReceived(ByteBuffer(bytes: try MySQLGolden.response()))
        if mode != .disable { _ = session.backendTLSEstablished() }
        return session
    }

    /// The database's sequence ids are one higher than the client's when its hop is TLS.
    private func shift(_ mode: DatabaseTLS.Mode) -> UInt8 { mode == .disable ? 0 : 1 }

    private static let password = Array("secret\0".utf8)
    private static let fullAuthentication: [UInt8] = [0x01, 0x04]

    @Test("full authentication over a plain database hop: the clear-text password is refused, not sent")
    func fullAuthenticationPlainRefused() throws {
        var session = try authenticating(.disable)
        let relayed = session.backendReceived(ByteBuffer(bytes: MySQLBytes.frame(Self.fullAuthentication, sequence: 2)))
        #expect(relayed.map(\.toClient) == [MySQLBytes.frame(Self.fullAuthentication, sequence: 2)])
        let actions = session.clientReceived(ByteBuffer(bytes: MySQLBytes.frame(Self.password, sequence: 3)))
        #expect(actions.allSatisfy { $0.toBackend == nil }, "the password must not reach the database: \(actions)")
        let failure = try #require(actions.first?.failure)
        #expect(failure.code == 1045 && failure.sqlState == "28000" && failure.sequence == 4)
        #expect(failure.message.contains("refusing to send a clear-text password to database \"mysql8\" over plain TCP"))
    }

    @Test("full authentication over a plain database hop: the RSA key request and the encrypted password pass")
    func fullAuthenticationRSAPasses() throws {
        var session = try authenticating(.disable)
        _ = session.backendReceived(ByteBuffer(bytes: MySQLBytes.frame(Self.fullAuthentication, sequence: 2)))
        #expect(session.clientReceived(ByteBuffer(bytes: MySQLBytes.frame([0x02], sequence: 3))).map(\.toBackend)
            == [MySQLBytes.frame([0x02], sequence: 3)])
        let key = [0x01] + Array("-----BEGIN PUBLIC KEY-----\n...".utf8)
        #expect(session.backendReceived(ByteBuffer(bytes: MySQLBytes.frame(key, sequence: 4))).map(\.toClient)
            == [MySQLBytes.frame(key, sequence: 4)])
        let encrypted = [UInt8](repeating: 0xA5, count: 256)
        #expect(session.clientReceived(ByteBuffer(bytes: MySQLBytes.frame(encrypted, sequence: 5))).map(\.toBackend)
            == [MySQLBytes.frame(encrypted, sequence: 5)])
    }

    @Test("over a TLS database hop the clear-text password goes through, renumbered",
          arguments: [DatabaseTLS.Mode.require, .verifyCA, .verifyFull])
    func fullAuthenticationOverTLS(mode: DatabaseTLS.Mode) throws {
        var session = try authenticating(mode)
        let shift = self.shift(mode)
        _ = session.backendReceived(ByteBuffer(bytes: MySQLBytes.frame(Self.fullAuthentication, sequence: 2 + shift)))
        #expect(session.clientReceived(ByteBuffer(bytes: MySQLBytes.frame(Self.password, sequence: 3))).map(\.toBackend)
            == [MySQLBytes.frame(Self.password, sequence: 3 + shift)])
    }

    @Test("a fast-auth success (AuthMoreData 0x03) needs no password: the next packet is not taken for one")
    func fastAuthentication() throws {
        var session = try authenticating(.disable)
        _ = session.backendReceived(ByteBuffer(bytes: MySQLBytes.frame([0x01, 0x03], sequence: 2)))
        let ok = try MySQLGolden.ok()
        let actions = session.backendReceived(ByteBuffer(bytes: MySQLBytes.renumbered(ok, 3)))
        #expect(actions.first?.splice != nil, "\(actions)")
    }

    @Test("an AuthSwitchRequest to mysql_clear_password over a plain database hop: the answer is refused")
    func clearPasswordPluginRefused() throws {
        var session = try authenticating(.disable)
        var request = ByteBuffer()
        MySQLAuthSwitchRequest(pluginName: "mysql_clear_password", pluginData: []).write(into: &request)
        _ = session.backendReceived(ByteBuffer(bytes: MySQLBytes.frame(Array(request.readableBytesView), sequence: 2)))
        let actions = session.clientReceived(ByteBuffer(bytes: MySQLBytes.frame(Self.password, sequence: 3)))
        #expect(actions.first?.failure?.code == 1045)
        #expect(actions.allSatisfy { $0.toBackend == nil })
    }
}
