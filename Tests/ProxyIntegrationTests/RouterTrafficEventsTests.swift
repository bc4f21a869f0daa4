import Foundation
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// What the router reports about a spliced connection's traffic: the backend dial time when it
/// is routed, the bytes each way when it closes.
@Suite("Router traffic events", .serialized)
struct RouterTrafficEventsTests {
    @Test("an echo session: routed with a dial time; closed with exactly the bytes sent each way")
    func echoSession() async throws {
        let router = try await ProxyProtocolRouter.start(trusted: nil)
        let message = Array(repeating: UInt8(ascii: "e"), count: 70_000)
        let outcome = try await ProxyHeaderTLSClient.run(
            port: router.port, header: [], material: try router.pki.user(), trustRoots: try router.pki.hostCACertificates,
            alpn: ["teleport-redis"], send: message, expecting: message.count)
        #expect(outcome.received.count == message.count)
        let routed = try await router.routed()
        let dial = try #require(routed.backendDialDuration)
        #expect(dial > .zero)
        let closed = try await router.events.first { event -> ClosedConnection? in
            if case .closed(let closed) = event { return closed }
            return nil
        }
        #expect(closed.routed.connection == routed.connection)
        #expect(closed.bytesFromClient == message.count)
        #expect(closed.bytesToClient == message.count)
        #expect(closed.duration > .zero)
        await router.stop()
    }
}
