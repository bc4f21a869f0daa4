import Foundation
import LocalDBProxy
import ServerALPN
import Testing

/// Bytes through local proxy -> router -> backend and back, over real TLS on loopback.
@Suite("Tunnel transfer")
struct TunnelTransferTests {
    @Test("64 MiB both ways with ping framing: equal SHA-256, ping variant negotiated", .timeLimit(.minutes(3)))
    func largeTransferWithPing() async throws {
        try await transfer(pingFraming: true, expectedALPN: "teleport-redis-ping")
    }

    @Test("64 MiB both ways without ping framing (a router that offers no -ping)", .timeLimit(.minutes(3)))
    func largeTransferWithoutPing() async throws {
        try await transfer(pingFraming: false, expectedALPN: "teleport-redis")
    }

    private func transfer(pingFraming: Bool, expectedALPN: String) async throws {
        let chain = try await ProxyChain.start(pingFraming: pingFraming)
        let (proxy, port, events) = try await chain.localProxy(try chain.pki.user())
        let total = 64 * 1024 * 1024
        let result = try await TestClient.exchange(port: port, total: total)
        #expect(result.sentBytes == total)
        #expect(result.receivedBytes == total)
        #expect(result.receivedSHA256 == result.sentSHA256)
        let negotiated = try await events.first { event -> String? in
            if case .connectionOpened(let opened) = event { return opened.negotiatedProtocol ?? "" }
            return nil
        }
        #expect(negotiated == expectedALPN)
        let routed = try await chain.routerEvents.first { event -> RoutedConnection? in
            if case .routed(let connection) = event { return connection }
            return nil
        }
        #expect(routed.database == "echo1")
        #expect(routed.user == "alice")
        #expect(routed.pingFramed == pingFraming)
        await proxy.stop()
        await chain.stop()
    }

    @Test("half-close travels end to end: the backend answers only after the client's EOF")
    func halfClosePropagates() async throws {
        let chain = try await ProxyChain.start(backend: .replyAfterEOF)
        let (proxy, port, _) = try await chain.localProxy(try chain.pki.user())
        let result = try await TestClient.exchange(port: port, total: 100_000, keepReceived: true)
        let reply = result.received.map { String(buffer: $0) }
        #expect(reply == "received 100000")
        await proxy.stop()
        await chain.stop()
    }

    @Test("half-close when the client's data and EOF arrive before the tunnel is up")
    func earlyEOF() async throws {
        let chain = try await ProxyChain.start(backend: .echo)
        let (proxy, port, _) = try await chain.localProxy(try chain.pki.user())
        // Small enough to sit in the socket buffers while the TLS handshake runs.
        for _ in 0..<20 {
            let result = try await TestClient.exchange(port: port, total: 5, keepReceived: true)
            #expect(result.receivedBytes == 5)
            #expect(result.receivedSHA256 == result.sentSHA256)
        }
        await proxy.stop()
        await chain.stop()
    }

    @Test("200 concurrent connections all complete with their own bytes", .timeLimit(.minutes(3)))
    func concurrentConnections() async throws {
        let chain = try await ProxyChain.start()
        let (proxy, port, _) = try await chain.localProxy(try chain.pki.user())
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    let result = try await TestClient.exchange(port: port, total: 32 * 1024)
                    return result.receivedBytes == 32 * 1024 && result.receivedSHA256 == result.sentSHA256
                }
            }
            var outcomes: [Bool] = []
            for try await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(outcomes.count == 200)
        #expect(outcomes.allSatisfy { $0 })
        await proxy.stop()
        await chain.stop()
    }
}
