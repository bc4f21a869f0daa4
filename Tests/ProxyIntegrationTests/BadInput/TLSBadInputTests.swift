import Foundation
import ProxyCore
import ServerALPN
import Testing

/// Bad input before and around TLS at the router: oversized or odd ClientHellos, bytes that are
/// not TLS, a PROXY protocol header from a peer nobody trusts, and ping framing with lengths
/// that bound nothing. After each case psql runs a query through a local proxy of the same
/// router.
@Suite("Bad input: TLS and framing", .serialized)
struct TLSBadInputTests {
    /// A hand-made TLS 1.2 ClientHello (ECDHE-ECDSA-AES128-GCM, P-256) in records of at most
    /// 16 KiB, for what a TLS library refuses to send.
    static func clientHello(serverName: String?, alpn: [String], cipherSuiteCount: Int = 1, padding: Int = 0) -> [UInt8] {
        func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        var extensions: [UInt8] = []
        if let serverName {
            let name = Array(serverName.utf8)
            let list = [0] + u16(name.count) + name
            extensions += u16(0) + u16(list.count + 2) + u16(list.count) + list
        }
        if !alpn.isEmpty {
            let list = alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            extensions += u16(16) + u16(list.count + 2) + u16(list.count) + list
        }
        extensions += u16(10) + u16(4) + u16(2) + u16(0x17)  // supported_groups: P-256
        extensions += u16(11) + u16(2) + [1, 0]  // ec_point_formats: uncompressed
        extensions += u16(13) + u16(4) + u16(2) + [4, 3]  // signature_algorithms: ecdsa_secp256r1_sha256
        if padding > 0 { extensions += u16(21) + u16(padding) + [UInt8](repeating: 0, count: padding) }
        var suites: [UInt8] = [0xC0, 0x2B]
        for index in 1..<max(1, cipherSuiteCount) { suites += u16(0x0A00 + index % 0x100) }
        var body: [UInt8] = [3, 3] + RandomBytes.make(32) + [0]
        body += u16(suites.count) + suites + [1, 0] + u16(extensions.count) + extensions
        let handshake = [1, UInt8(body.count >> 16 & 0xFF), UInt8(body.count >> 8 & 0xFF), UInt8(body.count & 0xFF)] + body
        var records: [UInt8] = []
        var offset = 0
        while offset < handshake.count {
            let chunk = handshake[offset..<min(handshake.count, offset + 16384)]
            records += [0x16, 3, 1] + u16(chunk.count) + chunk
            offset += chunk.count
        }
        return records
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        /// What the router must report.
        let rejection: @Sendable (RouterRejection) -> Bool
        /// The TLS records expected back (a fatal alert's description), nil: a close without reply.
        var alert: UInt8? = nil

        var testDescription: String { name }
    }

    static func notTLS(_ text: String) -> @Sendable (RouterRejection) -> Bool {
        { if case .notTLS(let reason) = $0 { reason.contains(text) } else { false } }
    }

    static let cases: [Case] = [
        Case(name: "ClientHello of 64 KiB + 10,000 bytes",
             bytes: clientHello(serverName: "localhost", alpn: ["teleport-postgres"], cipherSuiteCount: 32_000, padding: 10_000),
             rejection: notTLS("exceeds 65536")),
        Case(name: "SNI of 300 bytes", bytes: clientHello(serverName: String(repeating: "a", count: 300), alpn: ["teleport-postgres"]),
             rejection: { if case .tlsFailed = $0 { true } else { false } }, alert: 112),
        Case(name: "ALPN with 100 unknown entries", bytes: clientHello(serverName: "localhost", alpn: (0..<100).map { "unknown-\($0)" }),
             rejection: { if case .noRoute(_, let offered) = $0 { offered.count == 100 } else { false } }),
        Case(name: "HTTP request instead of TLS", bytes: Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8),
             rejection: notTLS("not a TLS handshake (first byte 71)")),
        Case(name: "random bytes instead of TLS", bytes: [0x9C] + RandomBytes.make(200), rejection: notTLS("not a TLS handshake (first byte 156)")),
        Case(name: "TLS record of length 65535", bytes: [0x16, 3, 1, 0xFF, 0xFF] + RandomBytes.make(100),
             rejection: notTLS("bad TLS record length 65535")),
        Case(name: "handshake record holding a ServerHello", bytes: [0x16, 3, 1, 0, 4, 2, 0, 0, 0],
             rejection: notTLS("first handshake message is not a ClientHello")),
        Case(name: "PROXY v1 header, PROXY protocol not configured",
             bytes: Array("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n".utf8),
             rejection: notTLS("the bytes start like a PROXY protocol header, and proxy_service.proxy_protocol is not configured")),
    ]

    /// Sends the bytes, reads what comes back until the router closes.
    private func exchange(_ world: BadInputWorld, _ bytes: [UInt8]) async throws -> [UInt8] {
        let raw = try await RawConnection.plain(port: world.routerPort)
        await raw.send(bytes)
        return try await raw.readUntilClosed()
    }

    @Test("before TLS at the router: refused (a close, or BoringSSL's alert), then psql works", arguments: cases)
    func beforeTLS(_ testCase: Case) async throws {
        let world = try await BadInputWorld.start()
        let answer = try await exchange(world, testCase.bytes)
        if let alert = testCase.alert {
            // A fatal alert record: content type 21, then level 2 and the description.
            #expect(answer.count == 7 && answer.first == 21 && answer[5] == 2 && answer[6] == alert, "answer \(answer)")
        } else {
            #expect(answer.isEmpty, "answer \(answer.prefix(40))")
        }
        let rejection = await world.rejection()
        #expect(rejection.map(testCase.rejection) == true, "rejection \(String(describing: rejection))")
        try await world.expectRouterServes(.postgres)
        await world.stop()
    }

    @Test("a PROXY v1 header from a peer outside trusted_cidrs: closed, then psql works")
    func untrustedProxyHeader() async throws {
        let world = try await BadInputWorld.start(
            proxyProtocol: ProxyProtocolConfiguration(trustedNetworks: [try IPNetwork(parsing: "10.0.0.0/8")]))
        let answer = try await exchange(world, Array("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n".utf8) + Self.clientHello(serverName: "localhost", alpn: ["teleport-postgres"]))
        #expect(answer.isEmpty, "answer \(answer.prefix(40))")
        let rejection = await world.rejection()
        guard case .proxyHeaderUntrusted(let peer) = rejection else {
            Issue.record("rejection \(String(describing: rejection))")
            return
        }
        #expect(peer.hasPrefix("127.0.0.1:"))
        try await world.expectRouterServes(.postgres)
        await world.stop()
    }

    @Test("ALPN with 100 entries, teleport-postgres last: routed, the login answers, then psql works")
    func longALPNList() async throws {
        let world = try await BadInputWorld.start()
        let raw = try await world.routerTLS(.postgres, alpn: (0..<99).map { "unknown-\($0)" } + ["teleport-postgres"])
        #expect(raw.negotiatedProtocol == "teleport-postgres")
        await raw.send(PGBytes.startup([("user", "trustuser"), ("database", "appdb")]))
        let answer = try await raw.read(until: { PGBytes.types($0).hasSuffix("Z") })
        #expect(PGBytes.types(answer).hasPrefix("R") && PGBytes.types(answer).hasSuffix("Z"), "\(PGBytes.types(answer))")
        await raw.close()
        try await world.expectRouterServes(.postgres)
        await world.stop()
    }

    /// Ping framing (teleport-postgres-ping): a frame length is a bound the reader counts down,
    /// not a size it allocates, so a huge one holding a StartupMessage is served; a header cut
    /// short before EOF is closed without a reply.
    struct PingCase: Sendable, CustomTestStringConvertible {
        let name: String
        /// The frame length put before a StartupMessage; nil: only two bytes of a header, then EOF.
        let length: UInt32?
        var testDescription: String { name }
    }

    static let pingCases = [
        PingCase(name: "ping frame length 2^32-1 holding a StartupMessage", length: .max),
        PingCase(name: "ping frame length 2^31-1 holding a StartupMessage", length: UInt32(Int32.max)),
        PingCase(name: "ping frame header cut after 2 bytes, then EOF", length: nil),
    ]

    @Test("ping-framed stream with a bad length at the router, then psql works", arguments: pingCases)
    func pingFraming(_ testCase: PingCase) async throws {
        let name = testCase.name
        let world = try await BadInputWorld.start()
        let raw = try await world.routerTLS(.postgres, alpn: ["teleport-postgres-ping"])
        #expect(raw.negotiatedProtocol == "teleport-postgres-ping")
        if let length = testCase.length {
            await raw.send(PingBytes.frame(PGBytes.startup([("user", "trustuser"), ("database", "appdb")]), length: length))
            let answer = try await raw.read(until: { PGBytes.types(PingBytes.unframe($0)).hasSuffix("Z") })
            let types = PGBytes.types(PingBytes.unframe(answer))
            #expect(types.hasPrefix("R") && types.hasSuffix("Z"), "\(name): \(types)")
            await raw.close()
        } else {
            await raw.send([0, 0])
            await raw.finishOutput()
            let answer = try await raw.readUntilClosed()
            #expect(PingBytes.unframe(answer).isEmpty, "\(name): \(answer.prefix(40))")
        }
        try await world.expectRouterServes(.postgres)
        await world.stop()
    }
}
