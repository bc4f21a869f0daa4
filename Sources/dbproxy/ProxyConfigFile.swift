import Foundation
import NIOCore
import ProxyCore
import Yams

/// The `--config` file of `dbproxy proxy` and `dbproxy connect`:
///
///     router: localhost:3080
///     ca: certs/host-ca.pem
///     databases:
///       - { name: pg1, cert: alice.pem, key: alice-key.pem, port: 15432 }
///       - { name: my1, cert: bob.pem, socket: /tmp/dbproxy }
///     warm_pool: 4              # optional, `dbproxy proxy` only
///     warm_pool_max_age: 20s
///
/// Relative file names are taken from the file's directory; mistakes are reported with the file,
/// line, key and reason.
struct ProxyConfigFile: Sendable {
    var router: String?
    var ca: String?
    var sni: String?
    var insecure: Bool?
    var mysqlServerVersion: String?
    /// Pre-handshaken router connections per database (`dbproxy proxy` only).
    var warmPool: Int?
    var warmPoolMaxAge: TimeAmount?
    var databases: [DatabaseEntry] = []

    static func load(path: String) throws(ProxyConfigError) -> ProxyConfigFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ProxyConfigError(file: path, key: "", line: nil, reason: "cannot read the file")
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try parse(text, file: path, baseDirectory: directory.isEmpty ? "." : directory)
    }

    static func parse(_ text: String, file: String, baseDirectory: String) throws(ProxyConfigError) -> ProxyConfigFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ProxyConfigError(file: file, key: "", line: nil, reason: "not valid YAML: \(error)")
        }
        guard let root else { throw ProxyConfigError(file: file, key: "", line: nil, reason: "the file is empty") }
        return try ProxyConfigReader(file: file, baseDirectory: baseDirectory).read(root)
    }
}

/// A mistake in a `--config` file.
struct ProxyConfigError: Error, Hashable, CustomStringConvertible {
    var file: String
    var key: String
    var line: Int?
    var reason: String

    var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""):\(key.isEmpty ? "" : " \(key):") \(reason)"
    }
}

private struct ProxyConfigReader {
    let file: String
    let baseDirectory: String

    func fail(_ key: String, _ node: Node?, _ reason: String) -> ProxyConfigError {
        ProxyConfigError(file: file, key: key, line: node?.mark.map(\.line), reason: reason)
    }

    func read(_ root: Node) throws(ProxyConfigError) -> ProxyConfigFile {
        let top = try mapping(root, "", allowed: [
            "router", "ca", "sni", "insecure", "mysql_server_version", "warm_pool", "warm_pool_max_age", "databases",
        ])
        var config = ProxyConfigFile()
        config.router = try string(top["router"], "router")
        config.ca = try path(top["ca"], "ca")
        config.sni = try string(top["sni"], "sni")
        config.mysqlServerVersion = try string(top["mysql_server_version"], "mysql_server_version")
        if let node = top["warm_pool"] {
            guard let size = node.int, size >= 0 else { throw fail("warm_pool", node, "expected a number of connections, 0 or more") }
            config.warmPool = size
        }
        if let node = top["warm_pool_max_age"] {
            guard let text = node.string, let age = DurationText.parse(text), age > .zero else {
                throw fail("warm_pool_max_age", node, "expected a duration such as 20s")
            }
            config.warmPoolMaxAge = age
        }
        if let node = top["insecure"] {
            guard let flag = node.bool else { throw fail("insecure", node, "expected true or false") }
            config.insecure = flag
        }
        guard let list = top["databases"] else { throw fail("databases", root, "missing (a list of name, cert, key, port, socket)") }
        guard let items = list.sequence else { throw fail("databases", list, "expected a list") }
        for (index, item) in items.enumerated() {
            config.databases.append(try database(item, "databases[\(index)]"))
        }
        guard !config.databases.isEmpty else { throw fail("databases", list, "the list is empty") }
        return config
    }

    func database(_ node: Node, _ key: String) throws(ProxyConfigError) -> DatabaseEntry {
        let fields = try mapping(node, key, allowed: ["name", "cert", "key", "port", "socket", "protocol"])
        guard let name = try string(fields["name"], "\(key).name"), !name.isEmpty else { throw fail("\(key).name", node, "missing") }
        guard let cert = try path(fields["cert"], "\(key).cert") else { throw fail("\(key).cert", node, "missing") }
        let keyFile = try path(fields["key"], "\(key).key") ?? DatabaseEntry.files(named: cert).key
        var port: Int?
        if let portNode = fields["port"] {
            guard let number = portNode.int, (0...65535).contains(number) else {
                throw fail("\(key).port", portNode, "expected a port number 0...65535")
            }
            port = number
        }
        return DatabaseEntry(
            name: name, certificateFile: cert, keyFile: keyFile, port: port,
            socketDirectory: try path(fields["socket"], "\(key).socket"), protocolName: try string(fields["protocol"], "\(key).protocol"))
    }

    func mapping(_ node: Node, _ key: String, allowed: Set<String>) throws(ProxyConfigError) -> [String: Node] {
        guard let map = node.mapping else { throw fail(key, node, "expected a mapping") }
        var result: [String: Node] = [:]
        for (name, value) in map {
            guard let text = name.string else { throw fail(key, name, "keys must be strings") }
            let path = key.isEmpty ? text : "\(key).\(text)"
            guard allowed.contains(text) else {
                throw fail(path, name, "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
            result[text] = value
        }
        return result
    }

    func string(_ node: Node?, _ key: String) throws(ProxyConfigError) -> String? {
        guard let node else { return nil }
        guard let text = node.string else { throw fail(key, node, "expected a string") }
        return text
    }

    /// A file name, taken from the config file's directory when relative. Whether it exists is
    /// checked when the database starts, so one missing file stops only its database.
    func path(_ node: Node?, _ key: String) throws(ProxyConfigError) -> String? {
        guard let text = try string(node, key) else { return nil }
        return text.hasPrefix("/") ? text : (baseDirectory as NSString).appendingPathComponent(text)
    }
}
