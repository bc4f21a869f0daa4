import ArgumentParser
import Logging

/// Options every long-running command shares: how much to log, and in which format.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: info; connect: warning).")
    var logLevel: String?

    @Flag(name: .shortAndLong, help: "Log errors only (same as --log-level error).")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Log debug messages too (same as --log-level debug).")
    var verbose = false

    @Flag(help: "Write logs to standard error as one JSON object per line (time, level, label, message, metadata).")
    var jsonLogs = false

    func validate() throws {
        let chosen = [logLevel != nil, quiet, verbose].filter { $0 }.count
        guard chosen <= 1 else { throw ValidationError("pass only one of --log-level, --quiet and --verbose") }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("unknown log level \"\(logLevel)\" (expected trace, debug, info, notice, warning, error or critical)")
        }
    }

    /// The level the options ask for; `standard` when they name none.
    func level(standard: Logger.Level = .info) -> Logger.Level {
        if quiet { return .error }
        if verbose { return .debug }
        return logLevel.flatMap(Logger.Level.init(rawValue:)) ?? standard
    }

    /// Sends every logger of the process to standard error in the chosen format and level.
    func bootstrap(standard: Logger.Level = .info) throws {
        try validate()
        let level = level(standard: standard)
        let json = jsonLogs
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
