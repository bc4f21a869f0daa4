import Foundation
import ProxyCore

/// The connection URI printed for GUI tools (DBeaver, DataGrip, Compass, MySQL Workbench ...).
enum ConnectionURIText {
    /// `localCA`: the CA of the local TLS certificate, when the proxy offers local TLS.
    static func make(protocol databaseProtocol: DatabaseProtocol, route: RouteToDatabase, host: String, port: Int, localCA: String? = nil) -> String? {
        let (user, database) = names(route)
        switch databaseProtocol {
        case .postgres, .cockroachdb:
            let tls = localCA.map { "?sslmode=verify-full&sslrootcert=\($0)" } ?? ""
            return "postgres://\(user)@\(host):\(port)/\(database)\(tls)"
        case .mysql:
            let tls = localCA.map { "?ssl-mode=VERIFY_IDENTITY&ssl-ca=\($0)" } ?? ""
            return "mysql://\(user)@\(host):\(port)/\(database)\(tls)"
        case .mongodb:
            let tls = localCA.map { "&tls=true&tlsCAFile=\($0)" } ?? ""
            return "mongodb://\(host):\(port)/\(database)?directConnection=true\(tls)"
        default:
            return nil
        }
    }

    /// The URI for a proxy listening on a unix socket.
    static func unixSocket(protocol databaseProtocol: DatabaseProtocol, route: RouteToDatabase, socket: UnixSocketPlace) -> String? {
        let (user, database) = names(route)
        switch databaseProtocol {
        case .postgres, .cockroachdb:
            return "postgres://\(user)@/\(database)?host=\(percentEncoded(socket.directory))&port=\(socket.port)"
        case .mysql:
            return "mysql://\(user)@\(percentEncoded(socket.path))/\(database)"
        case .mongodb:
            return "mongodb://\(percentEncoded(socket.path))/\(database)?directConnection=true"
        default:
            return nil
        }
    }

    /// Everything but unreserved characters percent-encoded, as URIs name socket paths.
    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    private static func names(_ route: RouteToDatabase) -> (user: String, database: String) {
        (route.username.isEmpty ? "USER" : route.username, route.database.isEmpty ? "DATABASE" : route.database)
    }
}
