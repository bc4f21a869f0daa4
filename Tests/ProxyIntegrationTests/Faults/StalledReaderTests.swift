import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A client that stops reading while PostgreSQL streams 1 GB of COPY output: back-pressure must
/// reach the database (its backend waits in ClientWrite) instead of the proxies buffering the
/// stream, so their memory stays flat; when the client reads again every byte arrives.
@Suite("Faults: a client that stops reading under a 1 GB stream")
struct StalledReaderTests {
    /// Counts PostgreSQL backend messages as they stream by, without keeping CopyData bodies.
    final class MessageCounter: @unchecked Sendable {
        private var header: [UInt8] = []
        private var type: UInt8 = 0
        private var remaining = 0
        private var body: [UInt8] = []
        private(set) var received = 0
        private(set) var copyRows = 0
        /// CopyData messages whose row is not 1000 characters and a newline.
        private(set) var oddRows = 0
        private(set) var readyForQuery = 0
        private(set) var commandTags: [String] = []
        private(set) var errors: [String] = []

        func feed(_ bytes: [UInt8]) {
            received += bytes.count
            var index = 0
            while index < bytes.count {
                if header.count < 5 {
                    header.append(bytes[index])
                    index += 1
                    guard header.count == 5 else { continue }
                    type = header[0]
                    let length = Int(header[1]) << 24 | Int(header[2]) << 16 | Int(header[3]) << 8 | Int(header[4])
                    remaining = max(length - 4, 0)
                    body = []
                    if type == UInt8(ascii: "d"), remaining != 1001 { oddRows += 1 }
                    if remaining == 0 { complete() }
                    continue
                }
                let take = min(remaining, bytes.count - index)
                if type != UInt8(ascii: "d") { body += bytes[index..<index + take] }
                index += take
                remaining -= take
                if remaining == 0 { complete() }
            }
        }

        private func complete() {
            switch type {
            case UInt8(ascii: "d"): copyRows += 1
            case UInt8(ascii: "Z"): readyForQuery += 1
            case UInt8(ascii: "C"): commandTags.append(String(decoding: body.prefix { $0 != 0 }, as: UTF8.self))
            case UInt8(ascii: "E"): errors.append(String(decoding: body.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self))
            default: break
            }
            header = []
        }
    }

    /// A StartupMessage for trustuser on appdb, protocol 3.0.
    static var startup: [UInt8] {
        var body: [UInt8] = [0, 3, 0, 0]
        for text in ["user", "trustuser", "database", "appdb"] { body += Array(text.utf8) + [0] }
        body.append(0)
        return bigEndian(body.count + 4) + body
    }

    static func query(_ sql: String) -> [UInt8] {
        let body = Array(sql.utf8) + [0]
        return [UInt8(ascii: "Q")] + bigEndian(body.count + 4) + body
    }

    static func bigEndian(_ value: Int) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    @Test("COPY of 1,000,000 rows of 1000 bytes, reader stalled after 10 MB: RSS of dbproxy serve and proxy stays flat, then all rows arrive")
    func stalledReader() async throws {
        try await DevDatabase.requirePostgres()
        let directory = try FaultWorld.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let router = try await FaultWorld.startRouter(directory: directory, databases: [FaultWorld.sharedPostgres])
        defer { router.process.terminate() }
        let proxy = try await FaultWorld.startLocalProxy(router: router.address, users: [.pg1])
        defer { proxy.process.terminate() }
        let port = try proxy.port(.pg1)
        let marker = "stall-\(UUID().uuidString.prefix(8))"
        let sql = "COPY (SELECT repeat('x', 1000) FROM generate_series(1, 1000000) AS \"\(marker)\") TO STDOUT"

        let counter = MessageCounter()
        let client = try await RawSocket.onThread {
            let client = try RawSocket(port: port)
            client.setReceiveBuffer(64 * 1024)
            guard client.write(Self.startup) else { throw CLIFailure(what: "startup refused") }
            while counter.readyForQuery == 0, counter.errors.isEmpty {
                guard case .data(let bytes) = client.read(milliseconds: 30_000) else { throw CLIFailure(what: "no ReadyForQuery") }
                counter.feed(bytes)
            }
            return client
        }
        try #require(counter.errors.isEmpty, "\(counter.errors)")
        let baseline = (router: FaultWorld.residentKiB(router.process.pid) ?? 0, proxy: FaultWorld.residentKiB(proxy.process.pid) ?? 0)

        // Read the first 10 MB, then stop reading.
        try await RawSocket.onThread {
            guard client.write(Self.query(sql)) else { throw CLIFailure(what: "query refused") }
            while counter.received < 10_000_000 {
                guard case .data(let bytes) = client.read(milliseconds: 30_000) else { throw CLIFailure(what: "the stream stopped early") }
                counter.feed(bytes)
            }
        }
        let readBeforeStall = counter.received
        var peak = baseline
        var waitEvents: [String] = []
        for _ in 0..<10 {
            try await Task.sleep(for: .seconds(1))
            peak.router = max(peak.router, FaultWorld.residentKiB(router.process.pid) ?? 0)
            peak.proxy = max(peak.proxy, FaultWorld.residentKiB(proxy.process.pid) ?? 0)
            let activity = try await FaultWorld.psql(
                port: DevDatabase.postgresPort, "select coalesce(wait_event, 'running') from pg_stat_activity where query like '%\(marker)%' and query like 'COPY%'")
            waitEvents.append(activity.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        print("stalled reader: RSS KiB before the COPY serve \(baseline.router), proxy \(baseline.proxy); peak while stalled serve \(peak.router), proxy \(peak.proxy); backend wait events \(waitEvents)")
        let growthLimit = 256 * 1024
        #expect(peak.router - baseline.router < growthLimit, "dbproxy serve grew \(peak.router - baseline.router) KiB")
        #expect(peak.proxy - baseline.proxy < growthLimit, "dbproxy proxy grew \(peak.proxy - baseline.proxy) KiB")
        // The database itself is held back: its backend waits to write to its client (the router).
        #expect(waitEvents.suffix(3).allSatisfy { $0 == "ClientWrite" }, "\(waitEvents)")

        let ended = try await RawSocket.onThread {
            while counter.readyForQuery < 2, counter.errors.isEmpty {
                guard case .data(let bytes) = client.read(maximum: 1 << 20, milliseconds: 60_000) else { return false }
                counter.feed(bytes)
            }
            client.write([UInt8(ascii: "X"), 0, 0, 0, 4])
            return true
        }
        print("stalled reader: \(readBeforeStall) bytes read before the stall, \(counter.received) in all, \(counter.copyRows) rows")
        #expect(ended, "the stream did not finish after reading resumed")
        #expect(counter.errors.isEmpty, "\(counter.errors)")
        #expect(counter.copyRows == 1_000_000)
        #expect(counter.oddRows == 0)
        #expect(counter.commandTags == ["COPY 1000000"])
        #expect(!router.process.exited() && !proxy.process.exited())
    }
}
