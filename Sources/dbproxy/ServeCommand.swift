import ArgumentParser
import Foundation
import Logging
import NIOCore
import ServerALPN

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the router: one TLS port routed by SNI, ALPN and client certificate.")

    @Option(name: .shortAndLong, help: "Router configuration file (YAML).")
    var config: String

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let configuration: RouterConfiguration
        do {
            configuration = try RouterConfigFile.load(path: config)
        } catch {
            throw ValidationError(error.description)
        }
        let router = Router(configuration: configuration)
        let address = try await router.start()
        let databases = configuration.databases.map { "\($0.name) (\($0.databaseProtocol), \($0.address))" }
        say("Router listening on \(address.displayString); databases: \(databases.isEmpty ? "none" : databases.joined(separator: ", ")); routes: \(configuration.routes.count)")
        _ = await SignalWaiter.waitForTermination()
        say("Stopping: waiting up to 5 s for open connections")
        await router.stop(deadline: .now() + .seconds(5))
    }
}

extension SocketAddress {
    /// `127.0.0.1:3080`, `[::1]:3080`, or a unix socket's path.
    var displayString: String {
        if let path = pathname { return path }
        guard let ip = ipAddress, let port else { return description }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
