import NIOCore
import ProxyCore
@testable import ServerALPN
import Testing
import WirePostgres

/// The router's state machine stops for the connection limits once the client address is
/// known (at once for a direct client, after the PROXY header behind a trusted load balancer),
/// and a refused client is told in its protocol when it is a PostgreSQL client, closed otherwise.
@Suite("RouterConnectionStateMachine: connection limits")
struct RouterStateMachineLimitsTests {
    static let loadBalancer = HostAndPort(host: "10.0.0.5", port: 40000)
    static let direct = HostAndPort(host: "198.51.100.9", port: 50000)
    static let trusted = ProxyProtocolConfiguration(trustedNetworks: [try! IPNetwork(parsing: "10.0.0.0/24")])
    static let header = Array("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n".utf8)
    static let sslRequest: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]
    static let refusal = RouterRejection.tooManyConnections(client: "203.0.113.7", limit: 2)

    func machine(proxied: Bool) -> RouterConnectionStateMachine {
        proxied
            ? RouterConnectionStateMachine(table: SampleRoutes.table(), proxyProtocol: Self.trusted, peer: Self.loadBalancer, checksLimits: true)
            : RouterConnectionStateMachine(table: SampleRoutes.table(), peer: Self.direct, checksLimits: true)
    }

    var hello: [UInt8] { get throws { try GoldenHello.opensslSNIALPN.bytes() } }

    @Test("a direct client is checked before its first byte; admitted, its ClientHello goes to TLS")
    func directAdmitted() throws {
        var machine = machine(proxied: false)
        #expect(machine.start().limitsCheck == Self.direct)
        #expect(machine.received(ByteBuffer(bytes: try hello)).isNone, "bytes wait for the decision")
        let action = try #require(machine.admitted().terminated)
        #expect(action.replay == ByteBuffer(bytes: try hello))
    }

    @Test("behind a trusted load balancer the check waits for the header and names its source; header and ClientHello in one read")
    func proxiedAdmitted() throws {
        var machine = machine(proxied: true)
        #expect(machine.start().isNone)
        let check = machine.received(ByteBuffer(bytes: Self.header + (try hello)))
        #expect(check.limitsCheck == HostAndPort(host: "203.0.113.7", port: 5555))
        let action = try #require(machine.admitted().terminated)
        #expect(action.replay == ByteBuffer(bytes: try hello), "the header is not replayed")
    }

    @Test("a refused TLS client is closed on its ClientHello, before any TLS", arguments: [false, true])
    func refusedTLS(proxied: Bool) throws {
        var machine = machine(proxied: proxied)
        _ = machine.start()
        if proxied { #expect(machine.received(ByteBuffer(bytes: Self.header)).limitsCheck != nil) }
        #expect(machine.refusedByLimits(Self.refusal).isNone, "nothing read yet")
        let hello = try hello
        #expect(machine.received(ByteBuffer(bytes: hello[..<3])).rejection == Self.refusal)
        #expect(machine.isClosed)
    }

    @Test("a refused PostgreSQL client gets S and TLS, then the refusal after the handshake (where libpq shows it)", arguments: [false, true])
    func refusedPostgresTLS(proxied: Bool) throws {
        var machine = machine(proxied: proxied)
        _ = machine.start()
        let bytes = (proxied ? Self.header : []) + Self.sslRequest
        let first = machine.received(ByteBuffer(bytes: bytes))
        if proxied { #expect(first.limitsCheck != nil) }
        let action = machine.refusedByLimits(Self.refusal)
        #expect(action.plainPostgres?.isStartTLS == true, "\(action)")
        let certificate = try TestCertificates.user("alice", service: "pg1", protocolName: "postgres")
        #expect(machine.handshakeCompleted(negotiatedProtocol: nil, peerCertificate: certificate).rejection == Self.refusal,
                "refused even with a valid certificate")
    }

    @Test("a refused PostgreSQL client sending its StartupMessage in plain text gets a 53300 ErrorResponse")
    func refusedPostgresPlain() throws {
        var machine = machine(proxied: false)
        _ = machine.start()
        #expect(machine.refusedByLimits(Self.refusal).isNone)
        let refusal = try #require(machine.received(ByteBuffer(bytes: PlainPostgresStateMachineTests.startup)).plainPostgres?.refusal)
        #expect(refusal.0.sqlState == PostgresSQLState.tooManyConnections)
        #expect(refusal.0.message.contains("too many connections from 203.0.113.7"))
        #expect(refusal.1 == Self.refusal)
    }

    @Test("a refused client that never sends anything times out as the limit refusal (the metric counts the limit)")
    func refusedSilent() {
        var machine = machine(proxied: false)
        _ = machine.start()
        _ = machine.refusedByLimits(Self.refusal)
        #expect(machine.deadlinePassed().rejection == Self.refusal)
    }

    @Test("input ended before a complete ClientHello: closed at once, not at the deadline; after TLS took over, nothing to do")
    func inputClosedEarly() throws {
        var machine = machine(proxied: false)
        _ = machine.start()
        _ = machine.admitted()
        let hello = try hello
        #expect(machine.received(ByteBuffer(bytes: hello[..<10])).isNone)
        let rejection = try #require(machine.inputClosed().rejection)
        #expect(rejection.kind == "not_tls")
        var started = self.machine(proxied: false)
        _ = started.start()
        _ = started.admitted()
        #expect(started.received(ByteBuffer(bytes: hello)).terminated != nil)
        #expect(started.inputClosed().isNone, "TLS owns the connection now")
    }

    @Test("without checksLimits the machine never stops for limits (as before)")
    func withoutLimits() throws {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table(), peer: Self.direct)
        #expect(machine.start().isNone)
        #expect(machine.received(ByteBuffer(bytes: try hello)).terminated != nil)
    }
}

extension RouterConnectionStateMachine.Action {
    /// The client address of a `checkLimits` action (nil for other actions and for an unknown address).
    var limitsCheck: HostAndPort? {
        if case .checkLimits(let client) = self { return client }
        return nil
    }
}
