import NIOCore
import NIOPosix

/// The channel options of every proxied connection, on both sides of each splice.
public enum ProxiedConnectionOptions {
    /// Reads start at 512 bytes and adapt between 64 bytes and 64 KiB. NIO keeps a channel's
    /// last receive buffer for its next read, so the starting size is what an idle connection
    /// holds (two channels per connection in each process); a bulk transfer reaches the
    /// maximum within a few reads. Measured in BENCHMARKS.md against 2 KiB, NIO's default.
    public static let readBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 64 * 1024)
}

extension ClientBootstrap {
    /// A dial's options: the peer's end of input is passed on (half-closure) instead of closing,
    /// Nagle's algorithm is off, and reads use ``ProxiedConnectionOptions/readBuffers``.
    public func proxiedConnectionOptions() -> ClientBootstrap {
        channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.recvAllocator, value: ProxiedConnectionOptions.readBuffers)
    }
}

extension ServerBootstrap {
    /// An accepted connection's options: half-closure and ``ProxiedConnectionOptions/readBuffers``
    /// (TCP_NODELAY is for the caller to add: a Unix socket listener has no such option).
    public func proxiedChildOptions() -> ServerBootstrap {
        childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.recvAllocator, value: ProxiedConnectionOptions.readBuffers)
    }
}
