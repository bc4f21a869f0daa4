import ArgumentParser
import Foundation
import Logging

@main
struct DBProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbproxy",
        abstract: "Reach databases through one TLS port.",
        subcommands: [ProxyCommand.self, ServeCommand.self, CertsCommand.self])
}

/// Options every long-running command shares.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func bootstrap() throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level \"\(logLevel)\"")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Prints a status line straight to standard output, unbuffered, so it reaches a pipe or a file
/// as soon as it is said.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
