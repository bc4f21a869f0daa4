import Foundation
import Testing

/// Bad MySQL input after the greeting, at the local proxy (which passes it through) and at the
/// router (TLS with `teleport-mysql`), where the connection phase is read: the client is told
/// with an ERR packet, or the connection closes when it has stopped sending. A MySQL length is
/// three bytes, so no length can be negative or over 0xFFFFFF. After each case the mariadb
/// client runs a query through the same proxy or router.
@Suite("Bad input: MySQL", .serialized)
struct MySQLBadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        var eof = false
        /// The ERR packet expected (code, state, message prefix, sequence id); nil: a close without reply.
        let error: (code: Int, state: String, message: String, sequence: UInt8)?

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "packet length 0 in place of the HandshakeResponse41", bytes: MySQLBytes.frame([], sequence: 1),
             error: (1043, "08S01", "dbproxy router: bad handshake response: ", 2)),
        Case(name: "packet length 1 (below the 32-byte HandshakeResponse41)", bytes: MySQLBytes.frame([0x01], sequence: 1),
             error: (1043, "08S01", "dbproxy router: bad handshake response: ", 2)),
        Case(name: "largest frame length 0xFFFFFF, cut short, then EOF",
             bytes: MySQLBytes.frame(MySQLBytes.handshakeResponse(user: "alice"), sequence: 1, length: 0xFF_FFFF), eof: true, error: nil),
        Case(name: "frame header cut after 2 bytes, then EOF", bytes: [0x40, 0x00], eof: true, error: nil),
        Case(name: "HandshakeResponse41 cut after 10 bytes, then EOF",
             bytes: Array(MySQLBytes.frame(MySQLBytes.handshakeResponse(user: "alice"), sequence: 1).prefix(10)), eof: true, error: nil),
        Case(name: "HandshakeResponse41 with sequence id 5 (expected 1)",
             bytes: MySQLBytes.frame(MySQLBytes.handshakeResponse(user: "alice"), sequence: 5),
             error: (1156, "08S01", "Got packets out of order", 1)),
    ]

    private func exercise(_ raw: RawConnection, _ testCase: Case) async throws {
        let greeting = try await raw.read(until: { !MySQLBytes.frames($0).isEmpty })
        let first = try #require(MySQLBytes.frames(greeting).first)
        #expect(first.sequence == 0 && first.payload.first == 10, "greeting \(greeting.prefix(16))")
        await raw.send(testCase.bytes)
        if testCase.eof { await raw.finishOutput() }
        let answer = try await raw.readUntilClosed()
        guard let expected = testCase.error else {
            #expect(answer.isEmpty, "answer \(answer.prefix(80))")
            return
        }
        let frames = MySQLBytes.frames(answer)
        #expect(frames.count == 1, "answer \(answer.prefix(120))")
        let frame = try #require(frames.first)
        let error = try #require(MySQLBytes.error(frame.payload), "not an ERR packet: \(frame.payload.prefix(40))")
        #expect(error.code == expected.code)
        #expect(error.state == expected.state)
        #expect(error.message.hasPrefix(expected.message), "\(error.message)")
        #expect(frame.sequence == expected.sequence)
    }

    @Test("after the greeting, at the local proxy: the router's ERR or a close, then mariadb works", arguments: cases)
    func atLocalProxy(_ testCase: Case) async throws {
        let world = try await BadInputWorld.start(requiring: [.mysql])
        let (proxy, port) = try await world.localProxy(.mysql)
        try await exercise(try await RawConnection.plain(port: port), testCase)
        try await world.expectServes(.mysql, port: port)
        await proxy.stop()
        await world.stop()
    }

    @Test("after the greeting, at the router (teleport-mysql): ERR or a close, then mariadb works", arguments: cases)
    func atRouter(_ testCase: Case) async throws {
        let world = try await BadInputWorld.start(requiring: [.mysql])
        let raw = try await world.routerTLS(.mysql)
        #expect(raw.negotiatedProtocol == "teleport-mysql")
        try await exercise(raw, testCase)
        try await world.expectRouterServes(.mysql)
        await world.stop()
    }
}
