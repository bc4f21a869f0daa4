import NIOCore
import ProxyCore
@testable import ServerALPN
import Testing

/// The router's state machine with a PROXY protocol header in front of the ClientHello: who is
/// believed, what is replayed to TLS, what is reported as the client, however the bytes arrive.
@Suite("RouterConnectionStateMachine: PROXY protocol")
struct ProxyProtocolStateMachineTests {
    static let loadBalancer = HostAndPort(host: "10.0.0.5", port: 40000)
    static let stranger = HostAndPort(host: "198.51.100.9", port: 50000)
    static let trusted = ProxyProtocolConfiguration(trustedNetworks: [try! IPNetwork(parsing: "10.0.0.0/24"), try! IPNetwork(parsing: "fd00::/8")])

    func machine(
        peer: HostAndPort = ProxyProtocolStateMachineTests.loadBalancer,
        configuration: ProxyProtocolConfiguration? = ProxyProtocolStateMachineTests.trusted
    ) -> RouterConnectionStateMachine {
        RouterConnectionStateMachine(table: SampleRoutes.table(), proxyProtocol: configuration, peer: peer)
    }

    var hello: [UInt8] { get throws { try GoldenHello.opensslSNIALPN.bytes() } }

    /// Feeds `chunks` in order; every action but the last must be `.none`.
    func feed(_ machine: inout RouterConnectionStateMachine, _ chunks: [ArraySlice<UInt8>],
              sourceLocation: SourceLocation = #_sourceLocation) -> RouterConnectionStateMachine.Action {
        var last = RouterConnectionStateMachine.Action.none
        for (index, chunk) in chunks.enumerated() {
            last = machine.received(ByteBuffer(bytes: chunk))
            if index < chunks.count - 1 {
                #expect(last.isNone, "chunk \(index) of \(chunks.count): \(last)", sourceLocation: sourceLocation)
            }
        }
        return last
    }

    // MARK: A trusted load balancer

    @Test("HAProxy's header and the ClientHello in one read: TLS gets exactly the ClientHello; the client is the header's source",
          arguments: ProxyProtocolFixture.allCases.filter(\.carriesClientHello))
    func oneChunk(_ fixture: ProxyProtocolFixture) throws {
        var machine = machine()
        let action = try #require(machine.received(ByteBuffer(bytes: try fixture.bytes())).terminated)
        #expect(action.selection == .database)
        #expect(action.replay == ByteBuffer(bytes: try hello))
        #expect(machine.proxyHeader == fixture.expected)
        #expect(machine.clientAddress == fixture.expected.source?.hostAndPort)
        #expect(machine.clientAddress != Self.loadBalancer)
    }

    @Test("split in two at every offset, the same decision and the same replay",
          arguments: [ProxyProtocolFixture.haproxyV1TCP4, .haproxyV2TCP4, .haproxyV2TLVs, .haproxyV1TCP6])
    func everySplit(_ fixture: ProxyProtocolFixture) throws {
        let bytes = try fixture.bytes()
        for offset in 1..<bytes.count {
            var machine = machine()
            let action = try #require(feed(&machine, [bytes[..<offset], bytes[offset...]]).terminated, "split at \(offset)")
            #expect(action.replay == ByteBuffer(bytes: try hello), "split at \(offset)")
            #expect(machine.clientAddress == fixture.expected.source?.hostAndPort, "split at \(offset)")
        }
    }

    @Test("byte by byte: nothing happens until the ClientHello's last byte",
          arguments: [ProxyProtocolFixture.haproxyV1TCP4, .haproxyV2TCP6, .haproxyV2TLVs])
    func byteByByte(_ fixture: ProxyProtocolFixture) throws {
        let bytes = try fixture.bytes()
        var machine = machine()
        let action = try #require(feed(&machine, bytes.indices.map { bytes[$0...$0] }).terminated)
        #expect(action.replay == ByteBuffer(bytes: try hello))
        #expect(machine.proxyHeader == fixture.expected)
    }

    @Test("bytes after the ClientHello in the same read are replayed; a passthrough route gets no header either")
    func passthroughWithoutHeader() throws {
        var machine = machine()
        let kubeHello = HelloBuilder(serverName: "kube-teleport-proxy-alpn.cluster", protocols: ["h2"]).records()
        let header = ProxyProtocolBytes.v1("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n")
        let action = try #require(machine.received(ByteBuffer(bytes: header + kubeHello + [23, 3, 3])).passThrough)
        #expect(action.target == SampleRoutes.kube)
        #expect(action.replay == ByteBuffer(bytes: kubeHello + [23, 3, 3]))
        #expect(machine.clientAddress == HostAndPort(host: "203.0.113.7", port: 5555))
    }

    @Test("LOCAL (HAProxy's version 2 health check) and UNKNOWN are accepted; the socket peer stays the client", arguments: [
        ProxyProtocolFixture.haproxyV2HealthCheck, .specV1UnknownShort, .specV2Unix,
    ])
    func localKeepsPeer(_ fixture: ProxyProtocolFixture) throws {
        var machine = machine()
        let action = try #require(machine.received(ByteBuffer(bytes: try fixture.bytes() + (try hello))).terminated)
        #expect(action.replay == ByteBuffer(bytes: try hello))
        #expect(machine.proxyHeader != nil)
        #expect(machine.clientAddress == Self.loadBalancer)
    }

    @Test("a header and nothing else waits for the ClientHello; the handshake deadline covers both")
    func headerThenDeadline() throws {
        var machine = machine()
        #expect(machine.received(ByteBuffer(bytes: try ProxyProtocolFixture.haproxyV2HealthCheck.bytes())).isNone)
        #expect(machine.isReadingClientHello)
        #expect(machine.deadlinePassed().rejection == .handshakeTimeout)

        var waiting = self.machine()
        #expect(waiting.received(ByteBuffer(bytes: Array("PROXY TCP4 1.2".utf8))).isNone)
        #expect(!waiting.isReadingClientHello)
        #expect(waiting.deadlinePassed().rejection == .handshakeTimeout)
    }

    @Test("a trusted peer may connect without a header (header: optional, the default); it is then the client")
    func trustedWithoutHeader() throws {
        var machine = machine()
        let bytes = try hello
        let action = try #require(feed(&machine, bytes.indices.map { bytes[$0...$0] }).terminated)
        #expect(action.replay == ByteBuffer(bytes: bytes))
        #expect(machine.proxyHeader == nil && machine.clientAddress == Self.loadBalancer)
    }

    @Test("with header: required, a trusted peer without a header is refused at its first byte")
    func requiredHeaderMissing() throws {
        var configuration = Self.trusted
        configuration.header = .required
        var machine = machine(configuration: configuration)
        let rejection = try #require(machine.received(ByteBuffer(bytes: try hello.prefix(1))).rejection)
        #expect(rejection == .proxyHeaderMissing(peer: "10.0.0.5:40000"))
        #expect(rejection.description.contains("10.0.0.5:40000") && rejection.description.contains("required"))
        #expect(rejection.kind == "proxy_header_missing")

        var withHeader = self.machine(configuration: configuration)
        #expect(withHeader.received(ByteBuffer(bytes: try ProxyProtocolFixture.haproxyV2TCP4.bytes())).terminated != nil)
    }

    @Test("an invalid header from a trusted peer is refused with the parser's reason, at every split")
    func invalidFromTrusted() throws {
        let bytes = ProxyProtocolBytes.v1("PROXY TCP4 203.0.113.7 192.0.2.1 70000 443\r\n") + (try hello)
        for offset in 1..<60 {
            var machine = machine()
            let first = machine.received(ByteBuffer(bytes: bytes[..<offset]))
            let action = first.isNone ? machine.received(ByteBuffer(bytes: bytes[offset...])) : first
            let rejection = try #require(action.rejection, "split at \(offset)")
            guard case .proxyHeaderInvalid(let reason) = rejection else {
                Issue.record("\(rejection)")
                continue
            }
            #expect(reason.contains("source port \"70000\""))
            #expect(rejection.description.hasPrefix("invalid PROXY protocol header: "))
            #expect(rejection.kind == "proxy_header_invalid")
        }
    }

    @Test("a second header after the first is not TLS")
    func twoHeaders() throws {
        var machine = machine()
        let header = try ProxyProtocolFixture.specV2TCP4.bytes()
        let rejection = try #require(machine.received(ByteBuffer(bytes: header + header + (try hello))).rejection)
        guard case .notTLS = rejection else {
            Issue.record("\(rejection)")
            return
        }
        #expect(machine.clientAddress?.host == "192.168.0.1")
    }

    @Test("IPv6 load balancers are trusted through IPv6 blocks; IPv4 ones through IPv4 blocks also when shown mapped", arguments: [
        (HostAndPort(host: "fd12::5", port: 1), true), (HostAndPort(host: "::ffff:10.0.0.9", port: 1), true),
        (HostAndPort(host: "fe80::1", port: 1), false), (HostAndPort(host: "10.0.1.1", port: 1), false),
    ])
    func trustByFamily(peer: HostAndPort, trusted: Bool) throws {
        var machine = machine(peer: peer)
        let action = machine.received(ByteBuffer(bytes: try ProxyProtocolFixture.haproxyV2TCP4.bytes()))
        #expect((action.terminated != nil) == trusted, "\(action)")
        #expect(machine.peerTrusted == trusted)
    }

    // MARK: Anyone else

    @Test("a header from a peer outside trusted_cidrs is refused naming the peer, as soon as five bytes show it",
          arguments: [ProxyProtocolFixture.haproxyV1TCP4, .haproxyV2TCP4])
    func untrusted(_ fixture: ProxyProtocolFixture) throws {
        let bytes = try fixture.bytes()
        var machine = machine(peer: Self.stranger)
        let rejection = try #require(feed(&machine, bytes.prefix(5).indices.map { bytes[$0...$0] }).rejection)
        #expect(rejection == .proxyHeaderUntrusted(peer: "198.51.100.9:50000"))
        #expect(rejection.description == "PROXY protocol header from 198.51.100.9:50000, which is not in proxy_service.proxy_protocol.trusted_cidrs")
        #expect(rejection.kind == "proxy_header_untrusted")
        #expect(machine.clientAddress == Self.stranger && machine.proxyHeader == nil)
    }

    @Test("with no proxy_protocol section a header is refused as not TLS, saying what it looked like",
          arguments: [ProxyProtocolFixture.haproxyV1TCP4, .haproxyV2TCP4])
    func notConfigured(_ fixture: ProxyProtocolFixture) throws {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table())
        let rejection = try #require(machine.received(ByteBuffer(bytes: try fixture.bytes())).rejection)
        guard case .notTLS(let reason) = rejection else {
            Issue.record("\(rejection)")
            return
        }
        #expect(reason.contains("not a TLS handshake"))
        #expect(reason.contains("PROXY protocol header, and proxy_service.proxy_protocol is not configured"))
        #expect(rejection.kind == "not_tls")
    }

    @Test("untrusted peers and routers without the section route TLS exactly as before")
    func othersUnchanged() throws {
        for var machine in [machine(peer: Self.stranger), RouterConnectionStateMachine(table: SampleRoutes.table())] {
            #expect(machine.isReadingClientHello)
            let action = try #require(machine.received(ByteBuffer(bytes: try hello)).terminated)
            #expect(action.replay == ByteBuffer(bytes: try hello))
            #expect(machine.proxyHeader == nil)
        }
        var plain = machine(peer: Self.stranger)
        guard case .notTLS(let reason) = try #require(plain.received(ByteBuffer(bytes: Array("GET / HTTP/1.1\r\n".utf8))).rejection) else {
            Issue.record("not refused as not TLS")
            return
        }
        #expect(!reason.contains("PROXY"))
    }
}
