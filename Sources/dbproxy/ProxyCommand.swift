import ArgumentParser
import Foundation
import LocalDBProxy
import Logging
import NIOCore
import ProxyCore
import ProxyOperations

struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy", abstract: "Run a local proxy that tunnels database clients to the router over mutual TLS.")

    @OptionGroup var tunnel: TunnelOptions

    @Option(help: "Local port to listen on (0: any free port).")
    var port: Int = 0

    @Option(help: "Local address to listen on.")
    var listen: String = "127.0.0.1"

    @Option(help: ArgumentHelp(
        "Listen on a unix socket in this directory instead of TCP (PostgreSQL: DIR/.s.PGSQL.<port>, so `psql -h DIR` works; others: DIR/<service>.sock). Mode 0600.",
        valueName: "dir"))
    var unixSocket: String?

    @Option(help: ArgumentHelp("At most this many client connections at a time per database; more are refused in the client's protocol.", valueName: "n"))
    var maxConnections: Int?

    @Option(help: ArgumentHelp(
        "Keep this many mutual-TLS connections to the router handshaken ahead of need, per database, so new client connections skip the TLS set-up (0: none). Closed unused at --warm-pool-max-age or when the certificate changes.",
        valueName: "n"))
    var warmPool: Int?

    @Option(help: ArgumentHelp(
        "Close pooled connections unused after this long; keep it below the router's login timeout (60s). Default 20s, MySQL 8s.",
        valueName: "duration"))
    var warmPoolMaxAge: String?

    @Option(help: ArgumentHelp(
        "On SIGTERM or SIGINT, let open connections finish for up to this long (e.g. 30s, 2m; 0: close them at once). A second signal stops at once.",
        valueName: "duration"))
    var maxSigtermDelay: String = "0"

    @Option(help: ArgumentHelp(
        "Log a warning this long before the certificate expires (the certificate files are re-read whenever they change).",
        valueName: "duration"))
    var expiryWarning: String = "10m"

    @Flag(help: "Allow --listen on an address other hosts can reach (anyone who reaches it uses your certificate).")
    var allowRemote = false

    @Option(help: ArgumentHelp(
        "Serve /startup, /liveness, /readiness and /metrics (Prometheus) over HTTP on this address, e.g. 127.0.0.1:9090.",
        valueName: "host:port"))
    var httpAddress: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if let httpAddress, OperationsAddress(parsing: httpAddress) == nil {
            throw ValidationError("--http-address \"\(httpAddress)\" is not HOST:PORT")
        }
        guard DurationText.parse(expiryWarning) != nil else {
            throw ValidationError("--expiry-warning \"\(expiryWarning)\" is not a duration such as 10m or 1h")
        }
        if !Self.isLoopback(listen), !allowRemote {
            throw ValidationError("--listen \(listen) can be reached from other hosts, which would then connect with your certificate; add --allow-remote if that is what you want")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        if tunnel.isMultiple, port != 0 || unixSocket != nil {
            throw ValidationError("with --db or --config, give each database its port= or socket= instead of --port or --unix-socket")
        }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if let warmPool, warmPool < 0 { throw ValidationError("--warm-pool must be 0 or more") }
        if let warmPoolMaxAge, (DurationText.parse(warmPoolMaxAge) ?? .zero) <= .zero {
            throw ValidationError("--warm-pool-max-age \"\(warmPoolMaxAge)\" is not a duration such as 20s")
        }
        guard DurationText.parse(maxSigtermDelay) != nil else {
            throw ValidationError("--max-sigterm-delay \"\(maxSigtermDelay)\" is not a duration such as 30s, 2m or 0")
        }
    }

    func run() async throws {
        try logging.bootstrap()
        let logger = Logger(label: "dbproxy")
        let plan = try tunnel.plan(port: port, socketDirectory: unixSocket)
        // Caught from here on: a signal during start stops the proxy once it has started.
        let signals = TerminationSignals()
        let (localTLS, localCA) = try tunnel.loadLocalTLS()
        if !Self.isLoopback(listen) {
            logger.warning("listening on \(listen): anyone who can reach this address reaches the databases with your certificate")
        }
        var launcher = DatabaseLauncher(plan: plan, listenHost: listen, maxConnections: maxConnections, localTLS: localTLS, logger: logger)
        launcher.expiryWarning = Duration.nanoseconds(DurationText.parse(expiryWarning)?.nanoseconds ?? 600_000_000_000)
        launcher.warmPool = warmPool ?? plan.warmPool ?? 0
        if let age = warmPoolMaxAge.flatMap(DurationText.parse) ?? plan.warmPoolMaxAge {
            launcher.warmPoolMaxAge = .nanoseconds(age.nanoseconds)
        }
        let outcomes = await launcher.launchAll()
        var running: [RunningDatabase] = []
        for outcome in outcomes {
            if plan.isMultiple, case .failed(let name, let reason) = outcome {
                logger.error("database not started", metadata: ["database": "\(name)", "reason": "\(reason)"])
            }
            guard case .started(let database) = outcome else { continue }
            running.append(database)
            let portHint = !plan.isMultiple && port == 0 && unixSocket == nil
            for line in StartupText.lines(for: database, router: plan.router, localCA: localCA, portHint: portHint) { say(line) }
        }
        if plan.isMultiple { say(StartupText.summary(outcomes)) }
        guard !running.isEmpty else {
            if !plan.isMultiple, case .failed(_, let reason) = outcomes.first { throw CLIError(reason) }
            throw CLIError("no database started")
        }
        var operations: LocalProxyOperations?
        if let httpAddress {
            do {
                let started = try await LocalProxyOperations.start(address: httpAddress, proxies: running.map { ($0.name, $0.proxy) }, logger: logger)
                let bound = started.boundAddress
                let shown = bound.port.map { "\(bound.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "127.0.0.1"):\($0)" } ?? httpAddress
                say("Health and metrics on http://\(shown) (/startup, /liveness, /readiness, /metrics).")
                operations = started
            } catch {
                for database in running { await database.proxy.stop(deadline: .now()) }
                throw CLIError("--http-address \(httpAddress): \(error)")
            }
        }
        let delay = DurationText.parse(maxSigtermDelay) ?? .zero
        // /readiness answers 503 while the proxies drain; the HTTP server stops after them.
        let status = await GracefulStop(proxies: running.map(\.proxy), maxDelay: delay, signals: signals).run()
        await operations?.stop()
        if status != 0 { throw ExitCode(status) }
    }
}

extension TunnelOptions {
    /// The local TLS material and its CA file when --local-tls is on; created on first use.
    func loadLocalTLS() throws -> (TLSMaterial?, String?) {
        guard localTLS else { return (nil, nil) }
        let files = LocalTLSFiles(directory: localTLSDir)
        do {
            let (material, created) = try files.loadOrCreate()
            if created { say("Created a local CA and a localhost certificate in \(files.directory) (clients verify with \(files.caCertificate)).") }
            return (material, files.caCertificate)
        } catch {
            throw CLIError("local TLS in \(localTLSDir): \(error)")
        }
    }
}

extension ProxyCommand {
    /// Whether `host` is a loopback address or name (reachable only from this machine).
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }
}
