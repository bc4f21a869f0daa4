#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Listens on one TCP address with one socket per event loop (SO_REUSEPORT), each keeping the
/// connections it accepts on its own loop. The kernel spreads new connections over the sockets;
/// no accepted connection is handed to another thread, which a single listener must do for
/// every connection it accepts on a group of several loops.
///
/// SO_REUSEPORT would let a second process of the same user that asks for it share the port
/// silently; a probe bind without it first makes a taken port fail as it always did. Linux
/// spreads connections over the sockets; Darwin gives them all to one socket, which still works
/// (on one loop).
public enum PerLoopListeners {
    /// Binds `host:port` once per loop of `group` (port 0: a free port, the same for all), with
    /// `configure` applied to each loop's bootstrap. Returns the listening channels, the first
    /// one's address being the address of all.
    public static func bind(
        group: any EventLoopGroup, host: String, port: Int, configure: (ServerBootstrap) -> ServerBootstrap
    ) async throws -> [Channel] {
        if port != 0 { try probe(host: host, port: port) }
        var channels: [Channel] = []
        var boundPort = port
        do {
            for loop in group.makeIterator() {
                let bootstrap = ServerBootstrap(group: loop, childGroup: loop)
                    .serverChannelOption(ChannelOptions.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
                let channel = try await configure(bootstrap).bind(host: host, port: boundPort).get()
                channels.append(channel)
                if boundPort == 0 { boundPort = channel.localAddress?.port ?? 0 }
            }
        } catch {
            for channel in channels { try? await channel.close().get() }
            throw error
        }
        return channels
    }

    /// Fails with EADDRINUSE when something listens on `host:port` already (another process, or
    /// one that also set SO_REUSEPORT).
    private static func probe(host: String, port: Int) throws {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let family = address.protocol.rawValue
        #if canImport(Glibc)
        let descriptor = Glibc.socket(family, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = Darwin.socket(family, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        #if canImport(Glibc)
        let result = address.withSockAddr { pointer, size in Glibc.bind(descriptor, pointer, socklen_t(size)) }
        #else
        let result = address.withSockAddr { pointer, size in Darwin.bind(descriptor, pointer, socklen_t(size)) }
        #endif
        if result != 0, errno == EADDRINUSE {
            throw IOError(errnoCode: EADDRINUSE, reason: "bind(descriptor:ptr:bytes:)")
        }
    }
}
