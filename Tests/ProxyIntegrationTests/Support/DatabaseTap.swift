import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ProxyCore

/// A TCP relay in front of a real database that records what each connection carried from its
/// client (the router) before the database answered. With `dropSilentAfter`, it closes a
/// connection whose client sent nothing within that time, as PostgreSQL does at its
/// authentication_timeout.
final class DatabaseTap: Sendable {
    struct Connection: Sendable {
        var bytesFromClient = 0
        var closedByTap = false
    }

    let channel: Channel
    private let log: NIOLockedValueBox<[Connection]>
    var port: Int { channel.localAddress?.port ?? 0 }
    /// The connections accepted so far, in order.
    var connections: [Connection] { log.withLockedValue { $0 } }

    private init(channel: Channel, log: NIOLockedValueBox<[Connection]>) {
        self.channel = channel
        self.log = log
    }

    /// Listens on `port` (0: a free one) and relays each connection to `target`.
    static func start(to target: HostAndPort, port: Int = 0, dropSilentAfter: TimeAmount? = nil) async throws -> DatabaseTap {
        let log = NIOLockedValueBox<[Connection]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { client in
                let index = log.withLockedValue { $0.append(Connection()); return $0.count - 1 }
                let glue = NIOLoopBound(GlueHandler.matchedPair(), eventLoop: client.eventLoop)
                let counter = TapCounter(log: log, index: index)
                if let dropSilentAfter {
                    client.eventLoop.scheduleTask(in: dropSilentAfter) {
                        guard log.withLockedValue({ $0[index].bytesFromClient == 0 }) else { return }
                        log.withLockedValue { $0[index].closedByTap = true }
                        client.close(promise: nil)
                    }
                }
                return ClientBootstrap(group: client.eventLoop)
                    .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                    .channelInitializer { backend in
                        backend.eventLoop.makeCompletedFuture { try backend.pipeline.syncOperations.addHandler(glue.value.1) }
                    }
                    .dial(target)
                    .flatMap { _ in
                        client.eventLoop.makeCompletedFuture {
                            try client.pipeline.syncOperations.addHandler(counter)
                            try client.pipeline.syncOperations.addHandler(glue.value.0)
                            try client.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: port).get()
        return DatabaseTap(channel: channel, log: log)
    }

    func stop() async {
        try? await channel.close().get()
    }
}

/// Counts the client's bytes on their way to the database.
private final class TapCounter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let log: NIOLockedValueBox<[DatabaseTap.Connection]>
    let index: Int

    init(log: NIOLockedValueBox<[DatabaseTap.Connection]>, index: Int) {
        self.log = log
        self.index = index
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = unwrapInboundIn(data).readableBytes
        log.withLockedValue { $0[index].bytesFromClient += count }
        context.fireChannelRead(data)
    }
}
