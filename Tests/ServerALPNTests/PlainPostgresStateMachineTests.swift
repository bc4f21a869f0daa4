import NIOCore
import ProxyCore
@testable import ServerALPN
import Testing
import WirePostgres

/// The router's state machine with a PostgreSQL client straight on its port (psql with
/// sslcert/sslkey/sslrootcert, no local proxy): SSLRequest -> `S` and TLS, GSSENCRequest -> `N`,
/// plain-text StartupMessage -> ErrorResponse, CancelRequest -> closed; however the bytes arrive,
/// with and without a PROXY protocol header in front.
@Suite("RouterConnectionStateMachine: PostgreSQL SSLRequest on the router's port")
struct PlainPostgresStateMachineTests {
    static let loadBalancer = HostAndPort(host: "10.0.0.5", port: 40000)
    static let trusted = ProxyProtocolConfiguration(trustedNetworks: [try! IPNetwork(parsing: "10.0.0.0/24")])
    static let header = ProxyProtocolBytes.v1("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n")

    static let sslRequest: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]
    static let gssENCRequest: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x30]
    static var startup: [UInt8] {
        var buffer = ByteBuffer()
        PostgresStartupMessage(protocolVersion: .v3_0, parameters: [PostgresStartupParameter(name: "user", value: "alice"), PostgresStartupParameter(name: "database", value: "appdb")]).write(into: &buffer)
        return Array(buffer.readableBytesView)
    }
    static var cancel: [UInt8] {
        var buffer = ByteBuffer()
        PostgresCancelRequest(processID: 42, secretKey: [1, 2, 3, 4]).write(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// With `proxied`, the peer is a trusted load balancer and `header` comes first.
    func machine(proxied: Bool) -> RouterConnectionStateMachine {
        proxied
            ? RouterConnectionStateMachine(table: SampleRoutes.table(), proxyProtocol: Self.trusted, peer: Self.loadBalancer)
            : RouterConnectionStateMachine(table: SampleRoutes.table(), peer: HostAndPort(host: "127.0.0.1", port: 50000))
    }

    func prefix(_ proxied: Bool) -> [UInt8] { proxied ? Self.header : [] }

    /// Feeds `chunks`; every action but the last must be `.none`.
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

    // MARK: SSLRequest

    @Test("SSLRequest: answer S and start TLS; routed as teleport-postgres without ping framing", arguments: [false, true])
    func sslRequest(proxied: Bool) throws {
        var machine = machine(proxied: proxied)
        let action = machine.received(ByteBuffer(bytes: prefix(proxied) + Self.sslRequest))
        #expect(action.plainPostgres?.isStartTLS == true, "\(action)")
        #expect(machine.plainPostgres)
        if proxied { #expect(machine.clientAddress == HostAndPort(host: "203.0.113.7", port: 5555)) }
        // Bytes after `S` are TLS: they belong to the TLS handler, not to the sniffer.
        #expect(machine.received(ByteBuffer(bytes: [0x16, 3, 1])).isNone)
        let certificate = try TestCertificates.user("alice", service: "pg1", protocolName: "postgres")
        // Whatever ALPN the client got (libpq 17: postgresql), no ping framing.
        let destination = try #require(
            machine.handshakeCompleted(negotiatedProtocol: "postgresql", peerCertificate: certificate).destination)
        #expect(destination.database == SampleRoutes.pg1)
        #expect(destination.identity?.username == "alice")
        #expect(!destination.pingFramed)
        #expect(machine.connected().isSplice)
    }

    @Test("SSLRequest split at every offset, with and without a PROXY header", arguments: [false, true])
    func sslRequestEverySplit(proxied: Bool) throws {
        let bytes = prefix(proxied) + Self.sslRequest
        for offset in 1..<bytes.count {
            var machine = machine(proxied: proxied)
            let action = feed(&machine, [bytes[..<offset], bytes[offset...]])
            #expect(action.plainPostgres?.isStartTLS == true, "split at \(offset): \(action)")
        }
        var machine = machine(proxied: proxied)
        let action = feed(&machine, bytes.indices.map { bytes[$0...$0] })
        #expect(action.plainPostgres?.isStartTLS == true, "byte by byte: \(action)")
    }

    @Test("GSSENCRequest then SSLRequest: N, then S, at every split", arguments: [false, true])
    func gssThenSSL(proxied: Bool) throws {
        let first = prefix(proxied) + Self.gssENCRequest
        for offset in 1..<first.count {
            var machine = machine(proxied: proxied)
            let answer = feed(&machine, [first[..<offset], first[offset...]])
            #expect(answer.plainPostgres?.answer == ByteBuffer(bytes: [UInt8(ascii: "N")]), "split at \(offset): \(answer)")
            for second in 1..<Self.sslRequest.count {
                var copy = machine
                let action = feed(&copy, [Self.sslRequest[..<second], Self.sslRequest[second...]])
                #expect(action.plainPostgres?.isStartTLS == true, "split at \(offset)/\(second): \(action)")
            }
        }
    }

    @Test("no certificate after the SSLRequest: a route rejection (told as an ErrorResponse inside TLS)")
    func noCertificate() throws {
        var machine = machine(proxied: false)
        _ = machine.received(ByteBuffer(bytes: Self.sslRequest))
        let rejection = machine.handshakeCompleted(negotiatedProtocol: nil, peerCertificate: nil).rejection
        #expect(rejection == .route(.clientCertificateRequired))
        #expect(machine.isClosed)
    }

    @Test("a MySQL certificate after an SSLRequest is refused: a PostgreSQL client reaches only PostgreSQL")
    func otherProtocolCertificate() throws {
        var machine = machine(proxied: false)
        _ = machine.received(ByteBuffer(bytes: Self.sslRequest))
        let certificate = try TestCertificates.user("alice", service: "my1", protocolName: "mysql")
        let rejection = try #require(machine.handshakeCompleted(negotiatedProtocol: nil, peerCertificate: certificate).rejection)
        guard case .databaseRefused(let text) = rejection else {
            Issue.record("expected databaseRefused, got \(rejection)")
            return
        }
        #expect(text.contains("\"my1\"") && text.contains("mysql"))
    }

    @Test("the handshake deadline covers the startup packets and the TLS handshake after S")
    func deadline() throws {
        var machine = machine(proxied: false)
        _ = machine.received(ByteBuffer(bytes: Self.gssENCRequest))
        #expect(machine.deadlinePassed().rejection == .handshakeTimeout)
        var partial = self.machine(proxied: false)
        _ = partial.received(ByteBuffer(bytes: [0, 0, 0]))
        #expect(partial.deadlinePassed().rejection == .handshakeTimeout)
        var tls = self.machine(proxied: false)
        _ = tls.received(ByteBuffer(bytes: Self.sslRequest))
        #expect(tls.deadlinePassed().rejection == .handshakeTimeout)
    }

    // MARK: Refusals

    @Test("StartupMessage first (no TLS): ErrorResponse 28000 saying TLS with a client certificate is required",
          arguments: [false, true])
    func startupFirst(proxied: Bool) throws {
        let bytes = prefix(proxied) + Self.startup
        for offset in 1..<bytes.count {
            var machine = machine(proxied: proxied)
            let action = feed(&machine, [bytes[..<offset], bytes[offset...]])
            let (error, rejection) = try #require(action.plainPostgres?.refusal, "split at \(offset): \(action)")
            #expect(error.severity == .fatal)
            #expect(error.sqlState == "28000")
            #expect(error.message.contains("TLS with a client certificate is required"))
            #expect(error.detail?.contains("\"alice\"") == true)
            guard case .notTLS = rejection else {
                Issue.record("expected notTLS, got \(rejection)")
                return
            }
            #expect(machine.isClosed)
        }
    }

    @Test("GSSENCRequest then StartupMessage (gssencmode=prefer sslmode=disable): N, then the ErrorResponse")
    func gssThenStartup() throws {
        var machine = machine(proxied: false)
        #expect(machine.received(ByteBuffer(bytes: Self.gssENCRequest)).plainPostgres?.answer != nil)
        let refusal = try #require(machine.received(ByteBuffer(bytes: Self.startup)).plainPostgres?.refusal)
        #expect(refusal.0.message.contains("TLS with a client certificate is required"))
    }

    @Test("CancelRequest first: no certificate can be checked, closed (no ErrorResponse), at every split",
          arguments: [false, true])
    func cancelFirst(proxied: Bool) throws {
        let bytes = prefix(proxied) + Self.cancel
        for offset in 1..<bytes.count {
            var machine = machine(proxied: proxied)
            let rejection = try #require(feed(&machine, [bytes[..<offset], bytes[offset...]]).rejection, "split at \(offset)")
            guard case .notTLS(let reason) = rejection else {
                Issue.record("expected notTLS, got \(rejection)")
                return
            }
            #expect(reason.contains("CancelRequest"))
            #expect(machine.isClosed)
        }
    }

    @Test("bytes after the SSLRequest before S are refused (they would pass for encrypted ones)")
    func dataAfterSSLRequest() throws {
        var machine = machine(proxied: false)
        let refusal = try #require(machine.received(ByteBuffer(bytes: Self.sslRequest + Self.startup)).plainPostgres?.refusal)
        #expect(refusal.0.sqlState == "08P01")
        #expect(refusal.0.message.contains("unencrypted data after SSLRequest"))
        #expect(!machine.plainPostgres)
        #expect(machine.isClosed)
    }

    @Test("a second GSSENCRequest, or bytes after one before N, are protocol violations")
    func gssViolations() throws {
        var twice = machine(proxied: false)
        _ = twice.received(ByteBuffer(bytes: Self.gssENCRequest))
        #expect(twice.received(ByteBuffer(bytes: Self.gssENCRequest)).plainPostgres?.refusal?.0.sqlState == "08P01")
        var pipelined = machine(proxied: false)
        #expect(pipelined.received(ByteBuffer(bytes: Self.gssENCRequest + Self.sslRequest)).plainPostgres?.refusal?.0.sqlState == "08P01")
    }

    @Test("zero-led bytes that are no startup packet: FATAL 08P01 to the client, refused as not TLS with the first bytes in hex")
    func garbage() throws {
        var machine = machine(proxied: false)
        let (error, rejection) = try #require(machine.received(ByteBuffer(bytes: [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x31])).plainPostgres?.refusal)
        #expect(error.sqlState == "08P01")
        #expect(error.message == "dbproxy router: invalid startup packet: unknown startup request code 1234/5681 (80877105)")
        guard case .notTLS(let reason) = rejection else {
            Issue.record("expected notTLS, got \(rejection)")
            return
        }
        #expect(reason.contains("00 00 00 08 04 d2 16 31"), "\(reason)")
        var long = self.machine(proxied: false)
        #expect(long.received(ByteBuffer(bytes: [0, 0, 0xFF, 0xFF])).plainPostgres?.refusal?.0.message
            == "dbproxy router: invalid startup packet: startup packet length 65535 exceeds the maximum of 10000")
    }

    @Test("a TLS ClientHello is still routed as before, with and without a PROXY header", arguments: [false, true])
    func clientHelloUnchanged(proxied: Bool) throws {
        var machine = machine(proxied: proxied)
        let action = try #require(machine.received(ByteBuffer(bytes: prefix(proxied) + (try GoldenHello.opensslSNIALPN.bytes()))).terminated)
        #expect(action.selection == .database)
        #expect(!machine.plainPostgres)
    }
}

extension RouterConnectionStateMachine.Action {
    var plainPostgres: RouterConnectionStateMachine.PlainPostgresAction? {
        if case .plainPostgres(let step) = self { return step }
        return nil
    }
}

extension RouterConnectionStateMachine.PlainPostgresAction {
    var isStartTLS: Bool {
        if case .startTLS = self { return true }
        return false
    }

    var answer: ByteBuffer? {
        if case .answer(let bytes) = self { return bytes }
        return nil
    }

    var refusal: (PostgresErrorResponse, RouterRejection)? {
        if case .refuse(let error, let reason) = self { return (error, reason) }
        return nil
    }
}
