import NIOCore
import NIOPosix

/// A plain TCP client on loopback: sends bytes as given and reads until the server closes.
enum RawClient {
    /// Sends `bytes`, optionally closes its output, and returns everything received until the
    /// other side closes (or `timeout` passes: then it throws).
    static func exchange(port: Int, sending bytes: [UInt8], closeOutput: Bool = false, timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            // The server may answer and close before it has read everything: a failed write is expected then.
            try? await outbound.write(ByteBuffer(bytes: bytes))
            if closeOutput { outbound.finish() }
            return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    var received: [UInt8] = []
                    do {
                        for try await buffer in inbound { received += buffer.readableBytesView }
                    } catch {}
                    return received
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                guard let first else { throw TestTimeout(what: "connection to port \(port) still open after \(timeout)") }
                return first
            }
        }
    }

    /// A connection that stays open until closed: it occupies a slot of a local proxy.
    static func occupy(port: Int) async throws -> Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}
