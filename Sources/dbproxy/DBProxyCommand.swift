import ArgumentParser
import Foundation

@main
struct DBProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbproxy",
        abstract: "Reach databases through one TLS port.",
        discussion: "Shell completion: `dbproxy --generate-completion-script bash|zsh|fish`.",
        subcommands: [ProxyCommand.self, ConnectCommand.self, ServeCommand.self, CertsCommand.self])
}

/// Prints a status line straight to standard output, unbuffered, so it reaches a pipe or a file
/// as soon as it is said.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A failure at run time (not a usage mistake): printed as `Error: ...` without the usage text.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
