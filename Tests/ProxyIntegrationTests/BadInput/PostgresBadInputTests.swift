import Foundation
import LocalDBProxy
import ProxyCore
import Testing

/// Bad PostgreSQL input at the local proxy and at the router (TLS with `teleport-postgres`, and
/// its port without TLS): startup packets are checked by the proxies and refused with a FATAL
/// ErrorResponse; messages after the login are PostgreSQL's own business (it logs an invalid
/// length and closes without a word). After each case psql runs a query through the same proxy
/// or router.
@Suite("Bad input: PostgreSQL", .serialized)
struct PostgresBadInputTests {
    static let version3 = be32(196_608)

    /// Startup packets whose length or code the proxies refuse with FATAL 08P01.
    static let startupRefused: [BadBytes] = [
        BadBytes(name: "startup length 0", bytes: PGBytes.lengthOnly(0, body: version3),
                 expected: "startup packet length 0 is below the minimum of 8"),
        BadBytes(name: "startup length 7 (below the minimum 8)", bytes: PGBytes.lengthOnly(7, body: version3),
                 expected: "startup packet length 7 is below the minimum of 8"),
        BadBytes(name: "startup length 10001 (above the maximum 10000)", bytes: PGBytes.lengthOnly(10001, body: version3),
                 expected: "startup packet length 10001 exceeds the maximum of 10000"),
        BadBytes(name: "startup length -1", bytes: PGBytes.lengthOnly(-1, body: version3),
                 expected: "startup packet length -1 is below the minimum of 8"),
        BadBytes(name: "startup length 2^31-1", bytes: PGBytes.lengthOnly(Int32.max, body: version3),
                 expected: "startup packet length 2147483647 exceeds the maximum of 10000"),
        BadBytes(name: "protocol version 2.0", bytes: PGBytes.startup([("user", "trustuser")], version: 0x0002_0000),
                 expected: "unsupported frontend protocol 2.0; only 3.x is supported"),
        BadBytes(name: "protocol version 4.0", bytes: PGBytes.startup([("user", "trustuser")], version: 0x0004_0000),
                 expected: "unsupported frontend protocol 4.0; only 3.x is supported"),
        BadBytes(name: "unknown request code 1234/5999", bytes: PGBytes.lengthOnly(8, body: be32(1234 << 16 | 5999)),
                 expected: "unknown startup request code 1234/5999 (80877423)"),
    ]

    /// Reads the one ErrorResponse the proxy answers with and checks it closed afterwards.
    private func expectRefusal(_ raw: RawConnection, _ testCase: BadBytes) async throws {
        await raw.send(testCase.bytes)
        let answer = try await raw.readUntilClosed()
        #expect(PGBytes.types(answer) == "E", "answer \(answer.prefix(64))")
        let fields = try #require(PGBytes.errorFields(answer))
        #expect(fields["S"] == "FATAL")
        #expect(fields["C"] == "08P01")
        #expect(fields["M"] == "invalid startup packet: \(testCase.expected)")
    }

    @Test("startup packet at the local proxy: FATAL 08P01, then psql works", arguments: startupRefused)
    func startupAtLocalProxy(_ testCase: BadBytes) async throws {
        let world = try await BadInputWorld.start()
        let (proxy, port) = try await world.localProxy(.postgres)
        try await expectRefusal(try await RawConnection.plain(port: port), testCase)
        try await world.expectServes(.postgres, port: port)
        await proxy.stop()
        await world.stop()
    }

    @Test("startup packet at the router (teleport-postgres): FATAL 08P01, then psql works", arguments: startupRefused)
    func startupAtRouter(_ testCase: BadBytes) async throws {
        let world = try await BadInputWorld.start()
        let raw = try await world.routerTLS(.postgres)
        #expect(raw.negotiatedProtocol == "teleport-postgres")
        try await expectRefusal(raw, testCase)
        try await world.expectRouterServes(.postgres)
        await world.stop()
    }

    @Test("startup packet at the router's port without TLS: FATAL 08P01 when it starts like PostgreSQL, else a close; then psql works",
          arguments: startupRefused)
    func startupAtRouterWithoutTLS(_ testCase: BadBytes) async throws {
        let world = try await BadInputWorld.start()
        let raw = try await RawConnection.plain(port: world.routerPort)
        guard testCase.bytes.first == 0 else {
            // A first byte other than 0 is no PostgreSQL length the router takes (and no TLS record).
            await raw.send(testCase.bytes)
            #expect(try await raw.readUntilClosed().isEmpty)
            let rejection = await world.rejection()
            guard case .notTLS(let reason) = rejection else {
                Issue.record("rejection \(String(describing: rejection))")
                return
            }
            #expect(reason.hasPrefix("not a TLS handshake (first byte \(testCase.bytes[0]))"), "\(reason)")
            try await world.expectRouterServes(.postgres)
            await world.stop()
            return
        }
        await raw.send(testCase.bytes)
        let answer = try await raw.readUntilClosed()
        #expect(PGBytes.types(answer) == "E", "answer \(answer.prefix(64))")
        let fields = try #require(PGBytes.errorFields(answer))
        #expect(fields["S"] == "FATAL" && fields["C"] == "08P01")
        #expect(fields["M"] == "dbproxy router: invalid startup packet: \(testCase.expected)")
        try await world.expectRouterServes(.postgres)
        await world.stop()
    }

    /// Cut short, then EOF: nothing to answer, the connection is closed.
    static let truncatedStartup: [BadBytes] = [
        BadBytes(name: "startup packet cut inside its length, then EOF", bytes: [0, 0], eof: true, expected: "close without reply"),
        BadBytes(name: "StartupMessage cut after 12 of 40 bytes, then EOF",
                 bytes: PGBytes.lengthOnly(40, body: version3 + Array("user".utf8)), eof: true, expected: "close without reply"),
    ]

    @Test("truncated startup packet then EOF: closed without a reply, then psql works", arguments: truncatedStartup)
    func truncatedStartupPacket(_ testCase: BadBytes) async throws {
        let world = try await BadInputWorld.start()
        let (proxy, port) = try await world.localProxy(.postgres)
        for raw in [try await RawConnection.plain(port: port), try await world.routerTLS(.postgres)] {
            await raw.send(testCase.bytes)
            await raw.finishOutput()
            #expect(try await raw.readUntilClosed().isEmpty)
        }
        try await world.expectServes(.postgres, port: port)
        await proxy.stop()
        await world.stop()
    }

    @Test("StartupMessage without user: the certificate's user is filled in (AuthenticationOk); with none named, FATAL 28000",
          arguments: [false, true])
    func startupWithoutUser(atRouter: Bool) async throws {
        let world = try await BadInputWorld.start()
        let (proxy, port) = try await world.localProxy(.postgres)
        let noUser = PGBytes.startup([("database", "appdb")])
        let raw = atRouter ? try await world.routerTLS(.postgres) : try await RawConnection.plain(port: port)
        await raw.send(noUser)
        let answer = try await raw.read(until: { PGBytes.types($0).hasSuffix("Z") })
        #expect(PGBytes.types(answer).hasPrefix("R"), "\(PGBytes.types(answer))")
        #expect(PGBytes.types(answer).hasSuffix("Z"))
        await raw.close()

        var request = UserCertificateRequest(user: "nobody", route: RouteToDatabase(serviceName: "pg", protocolName: "postgres"))
        request.roles = ["dev"]
        let unnamed = try world.certificate(request)
        let refused: RawConnection
        var other: LocalProxy?
        if atRouter {
            refused = try await world.routerTLS(.postgres, material: unnamed)
        } else {
            let (proxy, otherPort) = try await world.localProxy(.postgres, material: unnamed)
            other = proxy
            refused = try await RawConnection.plain(port: otherPort)
        }
        await refused.send(noUser)
        let fields = try #require(PGBytes.errorFields(try await refused.readUntilClosed()))
        #expect(fields["S"] == "FATAL" && fields["C"] == "28000")
        #expect(fields["M"] == "access denied: no database user given")
        #expect(fields["H"] == "Connect with a user name (psql -U NAME).")
        await other?.stop()
        try await world.expectServes(.postgres, port: port)
        await proxy.stop()
        await world.stop()
    }

    /// Messages after the login whose length PostgreSQL refuses: it logs "invalid message
    /// length" (COMMERROR, never sent) and closes; the proxies pass that on as it is.
    static let badMessages: [BadBytes] = [
        BadBytes(name: "Query length 0", bytes: PGBytes.message("Q", [], length: 0), expected: "close without reply"),
        BadBytes(name: "Query length 3 (below the minimum 4)", bytes: PGBytes.message("Q", [], length: 3), expected: "close without reply"),
        BadBytes(name: "Query length 2^30 (above PostgreSQL's 1 GiB - 2 limit)",
                 bytes: PGBytes.message("Q", Array("select 1".utf8) + [0], length: 1 << 30), expected: "close without reply"),
        BadBytes(name: "Query length -1", bytes: PGBytes.message("Q", [0], length: -1), expected: "close without reply"),
        BadBytes(name: "Query length 2^31-1", bytes: PGBytes.message("Q", [0], length: .max), expected: "close without reply"),
        BadBytes(name: "Query cut after 9 of 100 bytes, then EOF",
                 bytes: PGBytes.message("Q", Array("select 1".utf8) + [0], length: 100), eof: true, expected: "close without reply"),
    ]

    /// Logs in as trustuser (trust authentication) and waits for ReadyForQuery.
    private func login(_ raw: RawConnection) async throws {
        await raw.send(PGBytes.startup([("user", "trustuser"), ("database", "appdb")]))
        let answer = try await raw.read(until: { PGBytes.types($0).hasSuffix("Z") })
        #expect(PGBytes.types(answer).hasSuffix("Z"), "login: \(PGBytes.types(answer))")
    }

    private func expectClosedWithoutReply(_ raw: RawConnection, _ testCase: BadBytes) async throws {
        try await login(raw)
        await raw.send(testCase.bytes)
        if testCase.eof { await raw.finishOutput() }
        let answer = try await raw.readUntilClosed()
        #expect(answer.isEmpty, "answer: \(PGBytes.types(answer)) \(PGBytes.errorFields(answer) ?? [:])")
    }

    @Test("message after the login at the local proxy: PostgreSQL closes without a reply, then psql works", arguments: badMessages)
    func messageAtLocalProxy(_ testCase: BadBytes) async throws {
        let world = try await BadInputWorld.start()
        let (proxy, port) = try await world.localProxy(.postgres)
        try await expectClosedWithoutReply(try await RawConnection.plain(port: port), testCase)
        try await world.expectServes(.postgres, port: port)
        await proxy.stop()
        await world.stop()
    }

    @Test("message after the login at the router: PostgreSQL closes without a reply, then psql works", arguments: badMessages)
    func messageAtRouter(_ testCase: BadBytes) async throws {
        let world = try await BadInputWorld.start()
        try await expectClosedWithoutReply(try await world.routerTLS(.postgres), testCase)
        try await world.expectRouterServes(.postgres)
        await world.stop()
    }
}
