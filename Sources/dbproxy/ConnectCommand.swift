import ArgumentParser
import Foundation
import LocalDBProxy
import Logging
import NIOCore
import ProxyCore

struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Run the database's client (psql, mysql or mariadb, mongosh) through a local proxy on a free port; exit with the client's status.",
        discussion: "Arguments after `--` go to the client, e.g. `dbproxy connect --identity ~/.dbproxy/pg1 -- -c 'select 1'`.")

    @Argument(help: "Which database of --db or --config to connect to (default: the only one).")
    var name: String?

    @OptionGroup var tunnel: TunnelOptions

    @OptionGroup var logging: LoggingOptions

    @Argument(parsing: .postTerminator, help: ArgumentHelp("Arguments for the client, after `--`.", valueName: "client-arguments"))
    var clientArguments: [String] = []

    func run() async throws {
        // The client owns the terminal: only warnings and errors unless asked for more.
        try logging.bootstrap(standard: .warning)
        let logger = Logger(label: "dbproxy")
        var plan = try tunnel.plan()
        plan.databases = [try chosenDatabase(plan)]
        plan.databases[0].port = nil
        plan.databases[0].socketDirectory = nil
        let signals = TerminationSignals()
        let (localTLS, localCA) = try tunnel.loadLocalTLS()
        let launcher = DatabaseLauncher(plan: plan, localTLS: localTLS, logger: logger)
        guard let outcome = await launcher.launchAll().first else { throw CLIError("no database to connect to") }
        let database: RunningDatabase
        switch outcome {
        case .failed(_, let reason): throw CLIError(reason)
        case .started(let started): database = started
        }
        let status: Int32
        do {
            if let name, !plan.isMultiple, name != database.name {
                throw CLIError("the certificate is for the database \"\(database.name)\", not \"\(name)\"")
            }
            let program = try ClientProgram.find(
                protocol: database.proxy.databaseProtocol, route: database.proxy.identity.routeToDatabase,
                port: database.address.port ?? 0, localCA: localCA, extra: clientArguments)
            logger.debug("running the client", metadata: ["program": "\(program.executable)", "arguments": "\(program.arguments)"])
            let child = try ChildProcess.spawn(program)
            // SIGINT reaches the client from the terminal itself (psql cancels the query);
            // SIGTERM sent to dbproxy is passed on.
            let forwarding = Task {
                for await number in signals.deliveries where number == SIGTERM { child.signal(number) }
            }
            status = await child.wait()
            forwarding.cancel()
            signals.finish()
        } catch {
            await database.proxy.stop(deadline: .now())
            throw error
        }
        await database.proxy.stop(deadline: .now() + .seconds(1))
        if status != 0 { throw ExitCode(status) }
    }

    /// The database NAME picks, or the only one.
    private func chosenDatabase(_ plan: TunnelPlan) throws -> DatabaseEntry {
        let names = plan.databases.compactMap(\.name)
        guard let name, plan.isMultiple else {
            guard plan.databases.count == 1, let only = plan.databases.first else {
                throw ValidationError("name the database to connect to: one of \(names.joined(separator: ", "))")
            }
            return only
        }
        guard let found = plan.databases.first(where: { $0.name == name }) else {
            throw ValidationError("no database \"\(name)\" in --db or --config (there are: \(names.joined(separator: ", ")))")
        }
        return found
    }
}
