import NIOCore
import ProxyCore
@testable import ServerALPN
import Testing
import X509

/// The state machine after the route is chosen: handshake, backend connect, splice, and the
/// ways a connection ends early.
@Suite("RouterConnectionStateMachine: lifecycle")
struct RouterStateMachineLifecycleTests {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "connection refused (test)" }
    }

    /// A machine that has chosen a route for a ClientHello offering `protocols`.
    func machine(offering protocols: [String], serverName: String = "proxy.localhost") throws -> RouterConnectionStateMachine {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table())
        let hello = HelloBuilder(serverName: serverName, protocols: protocols).records()
        let action = machine.received(ByteBuffer(bytes: hello))
        #expect(action.terminated != nil || action.passThrough != nil)
        return machine
    }

    @Test("database: hello -> TLS -> connect to the database -> splice")
    func databaseFlow() throws {
        var machine = try machine(offering: ["teleport-postgres-ping", "teleport-postgres"])
        let certificate = try TestCertificates.user("alice", service: "pg1", protocolName: "postgres")
        let destination = try #require(
            machine.handshakeCompleted(negotiatedProtocol: "teleport-postgres-ping", peerCertificate: certificate).destination)
        #expect(destination.address == SampleRoutes.pg1.address)
        #expect(destination.database == SampleRoutes.pg1)
        #expect(destination.identity?.username == "alice")
        #expect(destination.pingFramed)
        #expect(machine.connected().isSplice)
        #expect(machine.isSpliced)
    }

    @Test("forward route: optional certificate, no certificate, plain forward")
    func forwardFlow() throws {
        var machine = try machine(offering: ["h2", "http/1.1"])
        let destination = try #require(machine.handshakeCompleted(negotiatedProtocol: "h2", peerCertificate: nil).destination)
        #expect(destination.address == SampleRoutes.web)
        #expect(destination.identity == nil && !destination.pingFramed)
        #expect(machine.connected().isSplice)
    }

    @Test("a database certificate on the http route still goes to its database")
    func certificateOverride() throws {
        var machine = try machine(offering: ["http/1.1"])
        let certificate = try TestCertificates.user("alice", service: "my1", protocolName: "mysql")
        let destination = try #require(machine.handshakeCompleted(negotiatedProtocol: "http/1.1", peerCertificate: certificate).destination)
        #expect(destination.database?.name == "my1")
    }

    @Test("passthrough: hello -> connect -> splice, with no handshake step")
    func passthroughFlow() throws {
        var machine = try machine(offering: [ALPNProtocol.auth(clusterName: "root").rawValue])
        #expect(machine.handshakeCompleted(negotiatedProtocol: nil, peerCertificate: nil).isNone)
        #expect(machine.tlsFailed(Failure()).isNone)
        #expect(machine.deadlinePassed().isNone)
        #expect(machine.connected().isSplice)
        #expect(machine.isSpliced)
    }

    @Test("passthrough backend unreachable is refused with the address")
    func passthroughUnreachable() throws {
        var machine = try machine(offering: [], serverName: "kube-teleport-proxy-alpn.c")
        let rejection = try #require(machine.connectFailed(SampleRoutes.kube, Failure()).rejection)
        #expect(rejection == .backendUnreachable(SampleRoutes.kube, "connection refused (test)"))
        #expect(rejection.description.contains("127.0.0.1:3026"))
        #expect(machine.isClosed)
        #expect(machine.connected().isNone)
    }

    @Test("database backend unreachable is refused")
    func backendUnreachable() throws {
        var machine = try machine(offering: ["teleport-postgres"])
        let certificate = try TestCertificates.user("alice", service: "pg1", protocolName: "postgres")
        _ = machine.handshakeCompleted(negotiatedProtocol: "teleport-postgres", peerCertificate: certificate)
        let rejection = try #require(machine.connectFailed(SampleRoutes.pg1.address, Failure()).rejection)
        guard case .backendUnreachable(let address, _) = rejection else {
            Issue.record("expected backendUnreachable, got \(rejection)")
            return
        }
        #expect(address == SampleRoutes.pg1.address)
    }

    @Test("a route rejection after the handshake closes the connection")
    func routeRejection() throws {
        var machine = try machine(offering: ["teleport-postgres"])
        let rejection = machine.handshakeCompleted(negotiatedProtocol: "teleport-postgres", peerCertificate: nil).rejection
        #expect(rejection == .route(.clientCertificateRequired))
        #expect(machine.isClosed)
    }

    @Test("a certificate without a user name is refused as a bad certificate")
    func badCertificate() throws {
        var machine = try machine(offering: ["teleport-postgres"])
        let certificate = try TestCertificates.user("", service: "pg1", protocolName: "postgres")
        let rejection = machine.handshakeCompleted(negotiatedProtocol: "teleport-postgres", peerCertificate: certificate).rejection
        #expect(rejection == .badCertificate(.missingUsername))
    }

    @Test("a non-database certificate on the database route is refused naming the user")
    func userCertificateOnDatabaseRoute() throws {
        var machine = try machine(offering: ["teleport-postgres"])
        let certificate = try TestCertificates.user("bob")
        let rejection = machine.handshakeCompleted(negotiatedProtocol: "teleport-postgres", peerCertificate: certificate).rejection
        #expect(rejection == .route(.notADatabaseCertificate("bob")))
    }

    @Test("a TLS failure during the handshake is refused with its reason")
    func tlsFailure() throws {
        var machine = try machine(offering: ["teleport-postgres"])
        #expect(machine.tlsFailed(Failure()).rejection == .tlsFailed("connection refused (test)"))
        #expect(machine.isClosed)
        #expect(machine.handshakeCompleted(negotiatedProtocol: "teleport-postgres", peerCertificate: nil).isNone)
    }

    @Test("the deadline refuses a connection still reading its ClientHello")
    func deadlineWhileReading() throws {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table())
        let golden = try GoldenHello.opensslSNIALPN.bytes()
        #expect(machine.received(ByteBuffer(bytes: golden[0..<50])).isNone)
        #expect(machine.deadlinePassed().rejection == .handshakeTimeout)
        #expect(machine.isClosed)
        #expect(machine.received(ByteBuffer(bytes: golden[50...])).isNone)
    }

    @Test("the deadline refuses a connection still in its TLS handshake")
    func deadlineWhileHandshaking() throws {
        var machine = try machine(offering: ["teleport-postgres"])
        #expect(machine.deadlinePassed().rejection == .handshakeTimeout)
        #expect(machine.handshakeCompleted(negotiatedProtocol: "teleport-postgres", peerCertificate: nil).isNone)
    }

    @Test("the deadline does nothing once the connection is routed or spliced")
    func deadlineAfterRouting() throws {
        var machine = try machine(offering: ["h2"])
        _ = machine.handshakeCompleted(negotiatedProtocol: "h2", peerCertificate: nil)
        #expect(machine.deadlinePassed().isNone)
        #expect(machine.connected().isSplice)
        #expect(machine.deadlinePassed().isNone)
        #expect(machine.connectFailed(SampleRoutes.web, Failure()).isNone)
        #expect(machine.isSpliced)
    }

    @Test("events out of order are ignored")
    func outOfOrder() {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table())
        #expect(machine.handshakeCompleted(negotiatedProtocol: "h2", peerCertificate: nil).isNone)
        #expect(machine.connected().isNone)
        #expect(machine.connectFailed(SampleRoutes.web, Failure()).isNone)
        #expect(machine.tlsFailed(Failure()).isNone)
        #expect(machine.isReadingClientHello)
    }

    @Test("a closed channel ends the machine")
    func channelClosed() throws {
        var machine = try machine(offering: ["teleport-postgres"])
        machine.channelClosed()
        #expect(machine.isClosed)
        #expect(machine.deadlinePassed().isNone)
        #expect(machine.tlsFailed(Failure()).isNone)
    }
}
