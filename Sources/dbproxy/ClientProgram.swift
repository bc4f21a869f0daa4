import Foundation
import ProxyCore

/// The database client `dbproxy connect` runs: psql, mysql or mariadb, mongosh.
struct ClientProgram: Sendable, Hashable {
    /// The full path of the program.
    var executable: String
    /// Its arguments, without the program name.
    var arguments: [String]

    /// The client for `databaseProtocol`, found on `searchPath` (the PATH variable), connecting
    /// to the local proxy on 127.0.0.1:`port`; `extra` arguments come last.
    static func find(
        protocol databaseProtocol: DatabaseProtocol, route: RouteToDatabase, port: Int, localCA: String?, extra: [String],
        searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    ) throws(CLIError) -> ClientProgram {
        let user = route.username.isEmpty ? nil : route.username
        let database = route.database.isEmpty ? nil : route.database
        let candidates: [String]
        let arguments: [String]
        switch databaseProtocol {
        case .postgres, .cockroachdb:
            candidates = ["psql"]
            let tls = localCA.map { "?sslmode=verify-full&sslrootcert=\($0)" } ?? ""
            arguments = ["postgres://\(user.map { "\($0)@" } ?? "")localhost:\(port)/\(database ?? "")\(tls)"]
        case .mysql:
            // `mysql` is a deprecated name of the same program where MariaDB's client is installed.
            candidates = ["mariadb", "mysql"]
            arguments = (user.map { ["--user", $0] } ?? []) + (database.map { ["--database", $0] } ?? [])
                + ["--port", "\(port)", "--host", "127.0.0.1", "--protocol", "TCP"]
                + (localCA.map { ["--ssl-verify-server-cert", "--ssl-ca", $0] } ?? [])
        case .mongodb:
            candidates = ["mongosh"]
            let tls = localCA.map { "&tls=true&tlsCAFile=\($0)" } ?? ""
            arguments = ["mongodb://localhost:\(port)/\(database ?? "")?directConnection=true&serverSelectionTimeoutMS=5000\(tls)"]
        default:
            throw CLIError("dbproxy connect has no client for \(databaseProtocol.displayName); run `dbproxy proxy` and point your client at the address it prints")
        }
        guard let executable = candidates.lazy.compactMap({ Self.lookUp($0, in: searchPath) }).first else {
            throw CLIError(missingMessage(databaseProtocol, searched: candidates))
        }
        return ClientProgram(executable: executable, arguments: arguments + extra)
    }

    /// The first executable file called `name` in the directories of `searchPath`.
    static func lookUp(_ name: String, in searchPath: String) -> String? {
        searchPath.split(separator: ":").map { ($0.isEmpty ? "." : String($0) as NSString).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// What to install when no client is found.
    static func missingMessage(_ databaseProtocol: DatabaseProtocol, searched: [String]) -> String {
        let names = searched.joined(separator: " or ")
        let install = switch databaseProtocol {
        case .mysql: "install a MySQL client: apt-get install mariadb-client (or default-mysql-client), dnf install mariadb, brew install mysql-client"
        case .mongodb: "install the MongoDB Shell: package mongodb-mongosh (https://www.mongodb.com/try/download/shell), brew install mongosh"
        default: "install the PostgreSQL client: apt-get install postgresql-client, dnf install postgresql, brew install libpq"
        }
        return "\(names) not found on PATH; \(install)"
    }
}
