import Foundation
import ProxyCore

/// The client command line printed for a database.
enum ConnectCommandText {
    /// `localCA`: the CA of the local TLS certificate, when the proxy offers local TLS.
    static func make(protocol databaseProtocol: DatabaseProtocol, route: RouteToDatabase, host: String, port: Int, localCA: String? = nil) -> String? {
        let user = route.username.isEmpty ? "USER" : route.username
        let database = route.database.isEmpty ? "DATABASE" : route.database
        switch databaseProtocol {
        case .postgres, .cockroachdb:
            if let localCA {
                return "psql \"postgres://\(user)@\(host):\(port)/\(database)?sslmode=verify-full&sslrootcert=\(localCA)\""
            }
            return "psql \"postgres://\(user)@\(host):\(port)/\(database)\""
        case .mysql:
            let tls = localCA.map { " --ssl-verify-server-cert --ssl-ca \($0)" } ?? ""
            return "mysql --user \(user) --database \(database) --port \(port) --host 127.0.0.1 --protocol TCP\(tls)"
        case .mongodb:
            let tls = localCA.map { "&tls=true&tlsCAFile=\($0)" } ?? ""
            return "mongosh \"mongodb://\(host):\(port)/\(database)?directConnection=true&serverSelectionTimeoutMS=5000\(tls)\""
        default:
            return nil
        }
    }
}

extension ConnectCommandText {
    /// The client command for a proxy listening on a unix socket.
    static func unixSocket(protocol databaseProtocol: DatabaseProtocol, route: RouteToDatabase, directory: String, path: String, port: Int) -> String? {
        let user = route.username.isEmpty ? "USER" : route.username
        let database = route.database.isEmpty ? "DATABASE" : route.database
        switch databaseProtocol {
        case .postgres, .cockroachdb:
            return "psql \"host=\(directory) port=\(port) user=\(user) dbname=\(database)\""
        case .mysql:
            return "mysql --user \(user) --database \(database) --socket \(path)"
        case .mongodb:
            // A MongoDB URI names a socket by its percent-encoded path.
            return "mongosh \"mongodb://\(ConnectionURIText.percentEncoded(path))/\(database)?directConnection=true&serverSelectionTimeoutMS=5000\""
        default:
            return nil
        }
    }
}
