import ArgumentParser
import Foundation
import Logging
import NIOCore
import ProxyCore
import ProxyOperations
import ServerALPN

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the router: one TLS port routed by SNI, ALPN and client certificate.")

    @Option(name: .shortAndLong, help: "Router configuration file (YAML).")
    var config: String

    @Flag(help: "Check the configuration file (syntax, certificates, keys, CAs) and exit: 0 when it is usable.")
    var checkConfig = false

    @Option(help: ArgumentHelp(
        "Serve /healthz, /readyz and /metrics (Prometheus) over HTTP on this address, e.g. 127.0.0.1:9091.",
        valueName: "host:port"))
    var httpAddress: String?

    @Option(help: ArgumentHelp(
        "On SIGTERM or SIGINT, stop accepting and let open connections finish for up to this long (0: close them at once).",
        valueName: "duration"))
    var maxSigtermDelay: String = "5s"

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard DurationText.parse(maxSigtermDelay) != nil else {
            throw ValidationError("--max-sigterm-delay \"\(maxSigtermDelay)\" is not a duration such as 30s, 2m or 0")
        }
        if let httpAddress, OperationsAddress(parsing: httpAddress) == nil {
            throw ValidationError("--http-address \"\(httpAddress)\" is not HOST:PORT")
        }
    }

    func run() async throws {
        try logging.bootstrap()
        let configuration: RouterConfiguration
        do {
            configuration = try RouterConfigFile.load(path: config)
        } catch {
            throw ValidationError(error.description)
        }
        let databases = configuration.databases.map { "\($0.name) (\($0.databaseProtocol), \($0.address))" }
        var extras = ""
        if !configuration.clusters.isEmpty {
            extras += "; clusters: " + configuration.clusters.map { "\($0.name) (auth \($0.address))" }.joined(separator: ", ")
        }
        if !configuration.additionalKeypairs.isEmpty { extras += "; https keypairs: \(configuration.keypairs.count)" }
        if configuration.connectionLimits != .none {
            extras += "; connection limits per client address: \(configuration.connectionLimits)"
        }
        if checkConfig {
            // Building the router's TLS contexts checks the certificates, keys and CAs together.
            do {
                try Router(configuration: configuration).validateTLS()
            } catch {
                throw ValidationError("\(config): \(error)")
            }
            say("\(config): OK; listen \(configuration.listenAddress); databases: \(databases.isEmpty ? "none" : databases.joined(separator: ", ")); routes: \(configuration.routes.count)\(extras)")
            return
        }
        let router = Router(configuration: configuration)
        let hangups = HangupSignals()
        let address = try await router.start()
        say("Router listening on \(address.displayString); databases: \(databases.isEmpty ? "none" : databases.joined(separator: ", ")); routes: \(configuration.routes.count)\(extras)")
        var operations: RouterOperations?
        if let httpAddress {
            do {
                operations = try await RouterOperations.start(address: httpAddress, router: router)
                say("Health and metrics on http://\(operations?.boundAddress.displayString ?? httpAddress) (/healthz, /readyz, /metrics).")
            } catch {
                await router.stop(deadline: .now())
                throw CLIError("--http-address \(httpAddress): \(error)")
            }
        }
        let reloading = Task { [config] in
            for await _ in hangups.deliveries { Self.reload(router, from: config) }
        }
        let signal = await SignalWaiter.waitForTermination()
        reloading.cancel()
        let delay = DurationText.parse(maxSigtermDelay) ?? .zero
        say("Stopping on \(TerminationSignals.name(signal)): \(router.openConnections) connections open; waiting up to \(DurationText.format(delay)) for them (/readyz answers 503)")
        await router.stop(deadline: .now() + delay)
        await operations?.stop()
    }
}

extension ServeCommand {
    /// SIGHUP: read the file again and put it in place for new connections; a file that does not
    /// load, or whose certificates do not, changes nothing.
    static func reload(_ router: Router, from path: String) {
        do {
            let configuration = try RouterConfigFile.load(path: path)
            let result = try router.reload(configuration)
            var line = "Reloaded \(path) on SIGHUP: databases: \(result.databases); routes: \(result.routes); open connections keep their settings"
            if let ignored = result.ignoredListenAddress { line += "; the new listen address \(ignored) needs a restart" }
            say(line)
        } catch {
            say("Reload of \(path) on SIGHUP failed, keeping the running configuration: \(error)")
        }
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
