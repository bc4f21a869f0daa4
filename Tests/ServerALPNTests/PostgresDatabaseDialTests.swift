import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

@testable import ServerALPN

/// `PostgresDatabaseDial`: the database connection started at the handshake goes to the
/// startup packet when it comes, and is closed when the client leaves first.
@Suite("PostgresDatabaseDial")
struct PostgresDatabaseDialTests {
    private func negotiator() -> PostgresBackendHandler {
        PostgresBackendHandler(
            negotiation: PostgresBackendNegotiation(mode: .disable), tlsContext: nil, serverName: nil,
            onReady: { _, _ in }, onFailure: { _ in })
    }

    private func activeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5432)).wait()
        return channel
    }

    private func isReady(_ outcome: PostgresDatabaseDial.Outcome?, _ channel: Channel) -> Bool {
        if case .ready(let got, _) = outcome { return got === channel }
        return false
    }

    @Test("ready before the startup packet: delivered at once when it comes")
    func readyFirst() throws {
        let channel = try activeChannel()
        let dial = PostgresDatabaseDial()
        dial.connected(channel)
        dial.ready(channel, negotiator: negotiator())
        var outcome: PostgresDatabaseDial.Outcome?
        dial.whenSettled { outcome = $0 }
        #expect(isReady(outcome, channel))
        dial.abandon()
        #expect(channel.isActive, "a delivered connection belongs to the caller")
    }

    @Test("the startup packet first: delivered when the connection is ready")
    func startupFirst() throws {
        let channel = try activeChannel()
        let dial = PostgresDatabaseDial()
        var outcome: PostgresDatabaseDial.Outcome?
        dial.whenSettled { outcome = $0 }
        #expect(outcome == nil)
        dial.connected(channel)
        dial.ready(channel, negotiator: negotiator())
        #expect(isReady(outcome, channel))
    }

    @Test("a failure reaches the waiter once; later news is ignored")
    func failure() throws {
        let dial = PostgresDatabaseDial()
        var outcomes: [String] = []
        dial.whenSettled { outcome in
            if case .failed(let reason) = outcome { outcomes.append(reason) } else { outcomes.append("ready") }
        }
        dial.failed("cannot connect: refused")
        dial.failed("again")
        dial.ready(try activeChannel(), negotiator: negotiator())
        #expect(outcomes == ["cannot connect: refused"])
    }

    @Test("the client leaves before its startup packet: the database connection is closed")
    func abandonedAfterConnect() throws {
        let channel = try activeChannel()
        let dial = PostgresDatabaseDial()
        dial.connected(channel)
        dial.ready(channel, negotiator: negotiator())
        dial.abandon()
        #expect(!channel.isActive)
    }

    @Test("the client left while the dial was under way: the connection is closed as it comes up")
    func abandonedBeforeConnect() throws {
        let dial = PostgresDatabaseDial()
        var called = false
        dial.whenSettled { _ in called = true }
        dial.abandon()
        let channel = try activeChannel()
        dial.connected(channel)
        #expect(!channel.isActive)
        dial.ready(channel, negotiator: negotiator())
        #expect(!called, "nobody waits any more")
    }
}
