import Foundation
import LocalDBProxy
import Logging
import NIOCore
import NIOPosix
import ProxyCore
import ServerALPN

/// An echo backend and a router in this process (after ProxyIntegrationTests' ProxyChain);
/// `localProxy` makes local proxies pointed at the router.
struct TestChain {
    let pki: TestPKI
    let backend: Channel
    let router: Router
    let routerPort: Int

    /// Router with one database route, `echo1` (protocol redis), to an echo backend.
    static func start() async throws -> TestChain {
        let pki = try TestPKI()
        let backend = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let configuration = RouterConfiguration(
            listenAddress: HostAndPort(host: "127.0.0.1", port: 0),
            certificateChain: try pki.serverChain, privateKey: try pki.serverKey, clientCA: try pki.userCACertificates,
            databases: [DatabaseRoute(
                name: "echo1", databaseProtocol: .redis, address: HostAndPort(host: "127.0.0.1", port: backend.localAddress?.port ?? 0))],
            timeouts: ProxyTimeouts(handshake: .seconds(15), connect: .seconds(5), login: .seconds(60)))
        let router = Router(configuration: configuration, logger: quietLogger("test.router"))
        let address = try await router.start()
        return TestChain(pki: pki, backend: backend, router: router, routerPort: address.port ?? 0)
    }

    /// A local proxy for service `echo1`, not started yet.
    func localProxy(maxConnections: Int? = nil) throws -> LocalProxy {
        var configuration = LocalProxyConfiguration(
            routerHost: "127.0.0.1", routerPort: routerPort, tls: try pki.user(service: "echo1"), serverName: "localhost")
        configuration.maxConnections = maxConnections
        return try LocalProxy(configuration: configuration, logger: Self.quietLogger("test.local"))
    }

    func stop() async {
        await router.stop(deadline: .now() + .seconds(1))
        try? await backend.close().get()
    }

    static func quietLogger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }
}

/// Returns every byte; closes its output after the client's.
private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
                context.close(mode: .output, promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
