import Foundation
import NIOCore
import Testing
import WireMySQL

@testable import ServerALPN

/// Router sessions the MySQL fuzzer (Fuzz/Sources/FuzzMySQL) found, replayed from
/// Tests/Fixtures/fuzz: one settings byte (low nibble: TLS mode), then chunks of
/// `[bit 7: from the client | length][bytes]`.
@Suite("MySQLRouterSession: fuzzer regressions")
struct MySQLRouterSessionFuzzRegressionTests {
    static func replay(_ name: String) throws -> [MySQLRouterSession.Action] {
        let file = MySQLGolden.directory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fuzz/\(name)")
        var input = ByteBuffer(bytes: Array(try Data(contentsOf: file)))
        let settings = input.readInteger(as: UInt8.self) ?? 0
        let modes = DatabaseTLS.Mode.allCases
        var session = MySQLRouterSession(identity: nil, service: "maria", tlsMode: modes[Int(settings & 0x0F) % modes.count])
        var actions: [MySQLRouterSession.Action] = []
        while let header = input.readInteger(as: UInt8.self),
              let chunk = input.readSlice(length: min(Int(header & 0x7F), input.readableBytes)) {
            var next = header & 0x80 != 0 ? session.clientReceived(chunk) : session.backendReceived(chunk)
            if next.contains(.startBackendTLS) { next += session.backendTLSEstablished() }
            actions += next
        }
        return actions
    }

    @Test("a login claiming capabilities the database did not offer, whose fields would read differently without them, is refused")
    func capabilitiesNotOffered() throws {
        let actions = try Self.replay("mysql-session-capabilities-not-offered.bin")
        let failure = try #require(actions.compactMap { action -> String? in
            if case .fail(_, let reason) = action { return reason }
            return nil
        }.first)
        #expect(failure.contains("did not offer"))
        // Refused before the router's SSLRequest: nothing of the login reaches the database.
        for action in actions {
            if case .sendToBackend = action { Issue.record("sent to the database: \(action)") }
            #expect(action != .startBackendTLS)
        }
    }
}
