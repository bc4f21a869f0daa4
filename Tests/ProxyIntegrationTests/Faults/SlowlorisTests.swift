import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// 100 connections to the router that dribble a TLS ClientHello one byte per second: the router
/// closes each at its handshake deadline (3 s here, from `proxy_service.handshake_timeout`), and
/// ordinary clients going through the same router meanwhile are served.
@Suite("Faults: slowloris against the router")
struct SlowlorisTests {
    /// The dribbling connections, driven from one thread with poll(2).
    final class Dribblers: @unchecked Sendable {
        private let lock = NSLock()
        private var closedAfter: [Duration?]
        let count: Int

        init(count: Int) {
            self.count = count
            closedAfter = Array(repeating: nil, count: count)
        }

        /// How many are still open.
        var open: Int { lock.withLock { closedAfter.filter { $0 == nil }.count } }
        /// How long each lasted from its connect to the router's close; nil: never closed.
        var lifetimes: [Duration?] { lock.withLock { closedAfter } }

        private func closed(_ index: Int, after: Duration) { lock.withLock { closedAfter[index] = after } }

        /// Connects all, then sends one byte per second on each until the router closes them all
        /// or `giveUp` passes. Blocking: run it on a thread of its own.
        func run(port: Int, giveUp: Duration, connected: @Sendable () -> Void) throws {
            // A TLS record header announcing a 512-byte ClientHello, then its first bytes.
            let hello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03] + [UInt8](repeating: 0x2A, count: 501)
            let clock = ContinuousClock()
            var sockets: [RawSocket] = []
            var started: [ContinuousClock.Instant] = []
            for _ in 0..<count {
                sockets.append(try RawSocket(port: port))
                started.append(clock.now)
            }
            connected()
            var sent = 0
            var nextByte = clock.now
            let end = clock.now + giveUp
            var polls = sockets.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            var done = [Bool](repeating: false, count: count)
            while done.contains(false), clock.now < end {
                if clock.now >= nextByte, sent < hello.count {
                    for index in sockets.indices where !done[index] && !sockets[index].write([hello[sent]]) {
                        done[index] = true
                        polls[index].fd = -1
                        closed(index, after: clock.now - started[index])
                    }
                    sent += 1
                    nextByte = nextByte + .seconds(1)
                }
                guard poll(&polls, nfds_t(polls.count), 50) > 0 else { continue }
                for index in polls.indices where polls[index].revents != 0 && !done[index] {
                    polls[index].revents = 0
                    // Nothing comes before the handshake: readable means end-of-file or reset.
                    switch sockets[index].read(milliseconds: 0) {
                    case .data: continue
                    case .endOfFile, .failed, .timedOut: break
                    }
                    done[index] = true
                    polls[index].fd = -1
                    closed(index, after: clock.now - started[index])
                }
            }
        }
    }

    @Test("100 slow ClientHellos are closed at the 3 s handshake deadline while psql and mariadb go through the same router")
    func slowloris() async throws {
        try await DevDatabase.requirePostgres()
        try await DevDatabase.requireMariaDB()
        let directory = try FaultWorld.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let router = try await FaultWorld.startRouter(
            directory: directory, databases: [FaultWorld.sharedPostgres, FaultWorld.sharedMariaDB], service: ["handshake_timeout: 3s"])
        defer { router.process.terminate() }
        let proxy = try await FaultWorld.startLocalProxy(router: router.address, users: [.pg1, .my1])
        defer { proxy.process.terminate() }
        let pg1 = try proxy.port(.pg1), my1 = try proxy.port(.my1)

        let dribblers = Dribblers(count: 100)
        let allConnected = AsyncStream<Void>.makeStream()
        let routerPort = router.port
        let run = Task {
            try await RawSocket.onThread {
                defer { allConnected.continuation.finish() }
                try dribblers.run(port: routerPort, giveUp: .seconds(30)) { allConnected.continuation.finish() }
            }
        }
        for await _ in allConnected.stream {}

        // Ordinary clients while the slow connections are open.
        var servedDuring = 0
        for round in 0..<3 {
            let openBefore = dribblers.open
            let postgres = try await FaultWorld.psql(port: pg1, "select \(round)")
            let mysql = try await FaultWorld.mariadb(port: my1, "select \(round)")
            #expect(postgres.status == 0 && postgres.stdout == "\(round)\n", "\(postgres.output)")
            #expect(mysql.status == 0 && mysql.stdout == "\(round)\n", "\(mysql.output)")
            if openBefore == dribblers.count, dribblers.open > 0, postgres.status == 0, mysql.status == 0 { servedDuring += 1 }
        }
        try await run.value

        let lifetimes = dribblers.lifetimes
        let closed = lifetimes.compactMap { $0 }
        #expect(closed.count == 100, "\(100 - closed.count) slow connections were still open after 30 s")
        // Closed by the deadline, not refused early: each lasted at least the 3 s it was allowed.
        #expect(closed.allSatisfy { $0 >= .milliseconds(2900) }, "\(closed.sorted())")
        #expect(servedDuring > 0, "no client was served while all 100 slow connections were open")
        if let first = closed.min(), let last = closed.max() {
            print("slowloris: 100 connections closed by the router after \(first) ... \(last); \(servedDuring) of 3 client rounds ran while they were open")
        }
        let after = try await FaultWorld.psql(port: pg1, "select 'after'")
        #expect(after.status == 0 && after.stdout == "after\n", "\(after.output)")
        #expect(!router.process.exited())
    }
}
