import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ProxyCore
import Testing

/// `PerLoopListeners`: one listening socket per event loop on one port, connections kept on the
/// loop that accepted them, and a taken port still refused.
@Suite("Per-loop listeners")
struct PerLoopListenersTests {
    @Test("one socket per loop, all on the port the first one got; each accepted connection stays on its listener's loop")
    func oneSocketPerLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        let accepted = NIOLockedValueBox<[(child: ObjectIdentifier, parent: ObjectIdentifier?)]>([])
        let listeners = try await PerLoopListeners.bind(group: group, host: "127.0.0.1", port: 0) { bootstrap in
            bootstrap.childChannelInitializer { channel in
                let parent = channel.parent.map { ObjectIdentifier($0.eventLoop) }
                accepted.withLockedValue { $0.append((ObjectIdentifier(channel.eventLoop), parent)) }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
        }
        #expect(listeners.count == 3)
        let port = try #require(listeners.first?.localAddress?.port)
        #expect(listeners.allSatisfy { $0.localAddress?.port == port })
        #expect(Set(listeners.map { ObjectIdentifier($0.eventLoop) }).count == 3)

        var clients: [Channel] = []
        for _ in 0..<24 {
            clients.append(try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get())
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while accepted.withLockedValue({ $0.count }) < 24, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let seen = accepted.withLockedValue { $0 }
        #expect(seen.count == 24)
        #expect(seen.allSatisfy { $0.child == $0.parent })
        for channel in clients + listeners { try? await channel.close().get() }
        try await group.shutdownGracefully()
    }

    @Test("a port another socket listens on is refused, also when that socket set SO_REUSEPORT itself")
    func takenPort() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        let plain = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let plainPort = try #require(plain.localAddress?.port)
        await #expect(throws: IOError.self) {
            try await PerLoopListeners.bind(group: group, host: "127.0.0.1", port: plainPort) { $0 }
        }
        let first = try await PerLoopListeners.bind(group: group, host: "127.0.0.1", port: 0) { $0 }
        let sharedPort = try #require(first.first?.localAddress?.port)
        do {
            let second = try await PerLoopListeners.bind(group: group, host: "127.0.0.1", port: sharedPort) { $0 }
            Issue.record("a second set bound port \(sharedPort) too")
            for channel in second { try? await channel.close().get() }
        } catch let error as IOError {
            #expect(error.errnoCode == EADDRINUSE)
        }
        for channel in first + [plain] { try? await channel.close().get() }
        try await group.shutdownGracefully()
    }
}
