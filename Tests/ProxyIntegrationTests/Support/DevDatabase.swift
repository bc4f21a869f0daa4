import Foundation
import NIOCore
import NIOPosix

/// The databases started by `scripts/dev-db` (or docker-compose.yml), found through the same
/// environment variables the script prints with `scripts/dev-db env`.
enum DevDatabase {
    static var postgresHost: String { env("DEV_DB_PG_HOST") ?? "127.0.0.1" }
    static var postgresPort: Int { env("DEV_DB_PG_PORT").flatMap(Int.init) ?? 55432 }

    private static func env(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Fails the test (never skips it) when the database is not listening: a test that silently
    /// skips its real database proves nothing.
    static func requirePostgres() async throws {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(2))
                .connect(host: postgresHost, port: postgresPort).get()
            try await channel.close().get()
        } catch {
            throw DevDatabaseMissing(what: "PostgreSQL is not listening on \(postgresHost):\(postgresPort) (\(error)); start it with `scripts/dev-db start postgres`")
        }
    }
}

struct DevDatabaseMissing: Error, CustomStringConvertible {
    var what: String
    var description: String { what }
}

/// Runs a command-line client and returns what it printed.
enum Command {
    struct Result {
        var status: Int32
        var output: String
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
