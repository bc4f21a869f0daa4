import NIOCore
import ProxyCore
@testable import ServerALPN
import Testing

/// PostgreSQL 17's `sslnegotiation=direct` on the router: a ClientHello offering ALPN
/// `postgresql` and no router protocol is terminated as after an SSLRequest.
@Suite("RouterConnectionStateMachine: PostgreSQL direct TLS")
struct PostgresDirectTLSStateMachineTests {
    private func hello(_ protocols: [String], serverName: String? = "db.example.com") -> [UInt8] {
        HelloBuilder(serverName: serverName, protocols: protocols).records()
    }

    @Test("ALPN postgresql on the main port and on postgres_listen_addr: direct TLS, the whole hello replayed",
          arguments: [RouterListener.main, .postgres])
    func direct(listener: RouterListener) throws {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table(), listener: listener)
        let bytes = hello(["postgresql"])
        let action = machine.received(ByteBuffer(bytes: bytes))
        guard case .plainPostgres(.startDirectTLS(let replay)) = action else {
            Issue.record("unexpected \(action)")
            return
        }
        #expect(replay.bytes == bytes)
        #expect(machine.plainPostgres)
    }

    @Test("a router ALPN value next to postgresql keeps the usual routing")
    func routerProtocolWins() throws {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table())
        let action = machine.received(ByteBuffer(bytes: hello(["teleport-postgres-ping", "postgresql"])))
        guard case .terminateTLS(.database, _) = action else {
            Issue.record("unexpected \(action)")
            return
        }
        #expect(!machine.plainPostgres)
    }

    @Test("postgres_listen_addr refuses other ClientHellos, naming what it takes")
    func otherTLSOnThePostgresListener() throws {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table(), listener: .postgres)
        let action = machine.received(ByteBuffer(bytes: hello(["teleport-postgres"])))
        guard case .reject(.notTLS(let reason)) = action else {
            Issue.record("unexpected \(action)")
            return
        }
        #expect(reason.hasPrefix("postgres_listen_addr takes PostgreSQL clients (SSLRequest then TLS, or direct TLS with ALPN postgresql) only"))
    }

    @Test("the mongo listener does not take it for PostgreSQL")
    func mongoListener() throws {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table(), listener: .mongo)
        guard case .terminateTLS(.database, _) = machine.received(ByteBuffer(bytes: hello(["postgresql"]))) else {
            Issue.record("not a database TLS termination")
            return
        }
        #expect(!machine.plainPostgres)
    }
}
