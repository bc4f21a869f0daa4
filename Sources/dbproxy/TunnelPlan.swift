import ArgumentParser
import Foundation
import NIOCore

/// The router, the trust and the databases that the options and the config file name, checked.
struct TunnelPlan: Sendable {
    /// The router address as given, for messages.
    var router: String
    var routerHost: String
    var routerPort: Int
    var caFile: String?
    var serverName: String?
    var insecure: Bool
    var mysqlServerVersion: String?
    /// The config file's `warm_pool` and `warm_pool_max_age`.
    var warmPool: Int? = nil
    var warmPoolMaxAge: TimeAmount? = nil
    var databases: [DatabaseEntry]
    /// From --db or --config (several databases, each with a name) rather than one certificate.
    var isMultiple: Bool
}

extension TunnelOptions {
    /// Resolves the options (and the --config file) into a plan. Command-line values win over the
    /// file's.
    func plan(port: Int? = nil, socketDirectory: String? = nil) throws -> TunnelPlan {
        var file: ProxyConfigFile?
        if let config {
            do { file = try ProxyConfigFile.load(path: config) } catch { throw ValidationError(error.description) }
        }
        guard let router = proxy ?? file?.router else {
            throw ValidationError("pass --proxy HOST:PORT (or `router:` in the --config file)")
        }
        let (routerHost, routerPort) = try Self.parseRouter(router)
        var caFile = ca ?? file?.ca
        var databases: [DatabaseEntry] = []
        if let identity {
            let folder = identity as NSString
            databases = [DatabaseEntry(
                name: nil, certificateFile: folder.appendingPathComponent("cert.pem"), keyFile: folder.appendingPathComponent("key.pem"),
                port: port, socketDirectory: socketDirectory, protocolName: protocolName)]
            if caFile == nil, FileManager.default.fileExists(atPath: folder.appendingPathComponent("ca.pem")) {
                caFile = folder.appendingPathComponent("ca.pem")
            }
        } else if let cert, let key {
            databases = [DatabaseEntry(
                name: nil, certificateFile: cert, keyFile: key, port: port, socketDirectory: socketDirectory, protocolName: protocolName)]
        } else {
            databases = (file?.databases ?? []) + (try self.databases.map { try DatabaseEntry(spec: $0) })
            for index in databases.indices where databases[index].protocolName == nil {
                databases[index].protocolName = protocolName
            }
        }
        let names = databases.compactMap(\.name)
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw ValidationError("the database name \"\(duplicate)\" is used twice")
        }
        let insecure = insecure || (file?.insecure ?? false)
        guard caFile != nil || insecure else {
            throw ValidationError("pass --ca FILE to verify the router (or put ca.pem in the --identity folder, or `ca:` in --config), or --insecure")
        }
        return TunnelPlan(
            router: router, routerHost: routerHost, routerPort: routerPort, caFile: caFile, serverName: sni ?? file?.sni,
            insecure: insecure, mysqlServerVersion: mysqlServerVersion ?? file?.mysqlServerVersion,
            warmPool: file?.warmPool, warmPoolMaxAge: file?.warmPoolMaxAge, databases: databases, isMultiple: isMultiple)
    }

    /// `HOST:PORT`, `[::1]:PORT`.
    static func parseRouter(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw ValidationError("the router address \"\(text)\" is not HOST:PORT")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { throw ValidationError("the router address \"\(text)\" has no host") }
        return (host, port)
    }
}
