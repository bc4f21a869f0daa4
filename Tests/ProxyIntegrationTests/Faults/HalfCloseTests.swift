import Foundation
import Testing

/// Half-closed connections through the generic TCP path (a Redis route: `dbproxy proxy` ->
/// `dbproxy serve` -> plain TCP forward) to a sink server of the test's own: each direction can
/// end while the other keeps carrying bytes.
@Suite("Faults: half-close through the TCP forward route")
struct HalfCloseTests {
    /// What the sink saw of each connection, by its first byte.
    final class SinkRecord: @unchecked Sendable {
        private let lock = NSLock()
        private var received: [UInt8: Int] = [:]
        func set(_ mode: UInt8, _ count: Int) { lock.withLock { received[mode] = count } }
        func count(_ mode: UInt8) -> Int? { lock.withLock { received[mode] } }
    }

    /// `A`: reads to the client's end-of-file, then answers "received N" and 1 MiB and closes.
    /// `B`: sends 5000 bytes, shuts its output at once, then counts what still arrives.
    static func sink(_ record: SinkRecord) throws -> RawListener {
        try RawListener { connection in
            guard case .data(let first) = connection.read(maximum: 1, milliseconds: 30_000), let mode = first.first else { return }
            switch mode {
            case UInt8(ascii: "A"):
                let (rest, ended) = connection.readToEnd()
                guard ended else { return }
                record.set(mode, 1 + rest.count)
                connection.write(Array("received \(1 + rest.count)\n".utf8) + [UInt8](repeating: UInt8(ascii: "z"), count: 1 << 20))
            default:
                connection.write([UInt8](repeating: UInt8(ascii: "h"), count: 5000))
                connection.shutdownOutput()
                let (rest, ended) = connection.readToEnd()
                record.set(mode, ended ? 1 + rest.count : -1)
            }
        }
    }

    @Test("the client shuts down writing after 3 MB: the sink sees all of it, and the client still reads the 1 MiB answer to the end")
    func clientHalfCloses() async throws {
        let record = SinkRecord()
        let sink = try Self.sink(record)
        defer { sink.stop() }
        let (router, proxy, directory) = try await start(sinkPort: sink.port)
        defer {
            proxy.process.terminate()
            router.process.terminate()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let port = try proxy.port(.sink)
        let payload = [UInt8(ascii: "A")] + RandomBytes.make(3_000_000)
        let (reply, ended) = try await RawSocket.onThread {
            let client = try RawSocket(port: port)
            guard client.write(payload) else { throw CLIFailure(what: "the proxy refused the upload") }
            client.shutdownOutput()
            return client.readToEnd()
        }
        #expect(ended, "the reply did not end with end-of-file")
        #expect(record.count(UInt8(ascii: "A")) == payload.count)
        let header = Array("received \(payload.count)\n".utf8)
        #expect(reply.count == header.count + (1 << 20))
        #expect(Array(reply.prefix(header.count)) == header, "\(String(decoding: reply.prefix(64), as: UTF8.self))")
        #expect(reply.dropFirst(header.count).allSatisfy { $0 == UInt8(ascii: "z") })
    }

    @Test("the server shuts down writing first: the client reads its 5000 bytes and end-of-file, then still sends 2 MB that all arrive")
    func serverHalfCloses() async throws {
        let record = SinkRecord()
        let sink = try Self.sink(record)
        defer { sink.stop() }
        let (router, proxy, directory) = try await start(sinkPort: sink.port)
        defer {
            proxy.process.terminate()
            router.process.terminate()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let port = try proxy.port(.sink)
        let upload = RandomBytes.make(2_000_000)
        let (greeting, ended, sent) = try await RawSocket.onThread {
            let client = try RawSocket(port: port)
            client.write([UInt8(ascii: "B")])
            let (greeting, ended) = client.readToEnd()
            // After end-of-file the connection still carries this side's bytes.
            let sent = client.write(upload)
            client.shutdownOutput()
            _ = client.read(milliseconds: 30_000)
            return (greeting, ended, sent)
        }
        #expect(ended, "no end-of-file after the server shut its output")
        #expect(greeting == [UInt8](repeating: UInt8(ascii: "h"), count: 5000))
        #expect(sent)
        let deadline = ContinuousClock.now + .seconds(30)
        while record.count(UInt8(ascii: "B")) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(record.count(UInt8(ascii: "B")) == 1 + upload.count)
    }

    private func start(sinkPort: Int) async throws -> (FaultWorld.Router, FaultWorld.LocalProxy, String) {
        let directory = try FaultWorld.makeDirectory()
        let router = try await FaultWorld.startRouter(directory: directory, databases: [.init(name: "sink1", protocolName: "redis", port: sinkPort)])
        do {
            return (router, try await FaultWorld.startLocalProxy(router: router.address, users: [.sink]), directory)
        } catch {
            router.process.terminate()
            throw error
        }
    }
}
