import Foundation
import LocalDBProxy
import ProxyCore

/// The lines `dbproxy proxy` prints once its databases listen.
enum StartupText {
    /// Where a database listens, its ALPN and certificate, then the client command and the URI.
    static func lines(for database: RunningDatabase, router: String, localCA: String?, portHint: Bool) -> [String] {
        let proxy = database.proxy
        let identity = proxy.identity
        let route = identity.routeToDatabase
        let service = database.name == route.serviceName || route.serviceName.isEmpty ? "" : " (service \"\(route.serviceName)\")"
        let alpn = proxy.applicationProtocols.map(\.rawValue).joined(separator: ", ")
        var lines = [
            "Started authenticated tunnel for the \(proxy.databaseProtocol.displayName) database \"\(database.name)\"\(service) on \(database.address.displayString) (router \(router), ALPN \(alpn); certificate valid until \(Timestamp.format(identity.notAfter))).",
        ]
        if portHint {
            lines.append("To avoid port randomization, you can choose the listening port using the --port flag.")
        }
        let command: String?
        let uri: String?
        if let socket = database.socket {
            command = ConnectCommandText.unixSocket(
                protocol: proxy.databaseProtocol, route: route, directory: socket.directory, path: socket.path, port: socket.port)
            uri = ConnectionURIText.unixSocket(protocol: proxy.databaseProtocol, route: route, socket: socket)
        } else {
            let port = database.address.port ?? 0
            command = ConnectCommandText.make(protocol: proxy.databaseProtocol, route: route, host: "localhost", port: port, localCA: localCA)
            let host = proxy.databaseProtocol == .mysql ? "127.0.0.1" : "localhost"
            uri = ConnectionURIText.make(protocol: proxy.databaseProtocol, route: route, host: host, port: port, localCA: localCA)
        }
        if let command {
            lines.append("Use the following command to connect to the database or to the address above using other database GUI/CLI clients:")
            lines.append("  $ \(command)")
        }
        if let uri {
            lines.append("Connection URI for GUI tools: \(uri)")
        }
        return lines
    }

    /// `Started 1 of 2 databases: pg1 (127.0.0.1:40001). Failed: my1 (alice.pem: no such file).`
    static func summary(_ outcomes: [LaunchOutcome]) -> String {
        var started: [String] = []
        var failed: [String] = []
        for outcome in outcomes {
            switch outcome {
            case .started(let database): started.append("\(database.name) (\(database.address.displayString))")
            case .failed(let name, let reason): failed.append("\(name) (\(reason))")
            }
        }
        let count = outcomes.count
        var line = "Started \(started.count) of \(count) database\(count == 1 ? "" : "s")"
        line += started.isEmpty ? "." : ": \(started.joined(separator: ", "))."
        if !failed.isEmpty { line += " Failed: \(failed.joined(separator: "; "))." }
        return line
    }
}
