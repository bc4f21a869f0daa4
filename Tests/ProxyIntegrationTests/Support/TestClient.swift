import Crypto
import Foundation
import NIOCore
import NIOPosix

/// A plain TCP client like a database client would be: it sends a stream of random bytes,
/// closes its output, and reads until the other side closes, hashing both directions.
enum TestClient {
    struct Exchange: Sendable {
        var sentBytes: Int
        var sentSHA256: String
        var receivedBytes: Int
        var receivedSHA256: String
        var received: ByteBuffer?
    }

    /// Sends `total` random bytes in `chunk`-sized writes, closes the output, then reads to EOF.
    /// `keepReceived` keeps the bytes (for small replies).
    static func exchange(port: Int, total: Int, chunk: Int = 64 * 1024, keepReceived: Bool = false) async throws -> Exchange {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Exchange.self) { group in
                group.addTask {
                    var hasher = SHA256()
                    var sent = 0
                    while sent < total {
                        let size = min(chunk, total - sent)
                        let bytes = RandomBytes.make(size)
                        hasher.update(data: bytes)
                        try await outbound.write(ByteBuffer(bytes: bytes))
                        sent += size
                    }
                    outbound.finish()
                    return Exchange(sentBytes: sent, sentSHA256: hasher.hex, receivedBytes: 0, receivedSHA256: "")
                }
                group.addTask {
                    var hasher = SHA256()
                    var count = 0
                    var kept: ByteBuffer? = keepReceived ? ByteBuffer() : nil
                    for try await var buffer in inbound {
                        count += buffer.readableBytes
                        buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                        kept?.writeBuffer(&buffer)
                    }
                    return Exchange(sentBytes: 0, sentSHA256: "", receivedBytes: count, receivedSHA256: hasher.hex, received: kept)
                }
                var result = Exchange(sentBytes: 0, sentSHA256: "", receivedBytes: 0, receivedSHA256: "")
                for try await part in group {
                    if part.sentSHA256.isEmpty {
                        result.receivedBytes = part.receivedBytes
                        result.receivedSHA256 = part.receivedSHA256
                        result.received = part.received
                    } else {
                        result.sentBytes = part.sentBytes
                        result.sentSHA256 = part.sentSHA256
                    }
                }
                return result
            }
        }
    }

    /// Connects and waits until the other side closes; returns how long that took and the
    /// bytes received meanwhile.
    static func waitForClose(port: Int, send: [UInt8] = [], timeout: Duration = .seconds(10)) async throws -> (Duration, Int) {
        let clock = ContinuousClock()
        let start = clock.now
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            // The proxy may close first; a write that finds the connection closed is expected.
            if !send.isEmpty { try? await outbound.write(ByteBuffer(bytes: send)) }
            return try await withThrowingTaskGroup(of: (Duration, Int)?.self) { group in
                group.addTask {
                    var count = 0
                    do {
                        for try await buffer in inbound { count += buffer.readableBytes }
                    } catch {}
                    return (clock.now - start, count)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                guard let first else { throw TestTimeout(what: "connection was not closed within \(timeout)") }
                return first
            }
        }
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}

enum RandomBytes {
    /// `count` bytes from the kernel's random source.
    static func make(_ count: Int) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: "/dev/urandom") else { return [] }
        defer { try? handle.close() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count, let data = try? handle.read(upToCount: count - bytes.count), !data.isEmpty {
            bytes.append(contentsOf: data)
        }
        return bytes
    }
}

extension SHA256 {
    var hex: String {
        finalize().map { String(format: "%02x", $0) }.joined()
    }
}
