import Foundation
import NIOCore
import NIOSSL
import ProxyCore
import Yams

/// Reads a router YAML file (the `version: v2` vocabulary) into a `RouterConfiguration`.
/// Relative file names are taken from the file's directory. Every problem is reported with the
/// file, the key and the reason.
public enum RouterConfigFile {
    public static func load(path: String) throws(RouterConfigError) -> RouterConfiguration {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RouterConfigError(file: path, key: "", line: nil, reason: "cannot read the file")
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try parse(text, file: path, baseDirectory: directory.isEmpty ? "." : directory)
    }

    public static func parse(_ text: String, file: String, baseDirectory: String) throws(RouterConfigError) -> RouterConfiguration {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw RouterConfigError(file: file, key: "", line: nil, reason: "the file is empty")
            }
            root = node
        } catch let error as RouterConfigError {
            throw error
        } catch {
            throw RouterConfigError(file: file, key: "", line: nil, reason: "not valid YAML: \(error)")
        }
        let reader = ConfigReader(file: file, baseDirectory: baseDirectory)
        return try reader.configuration(root)
    }
}

/// A problem in a router configuration file.
public struct RouterConfigError: Error, Hashable, CustomStringConvertible {
    public var file: String
    public var key: String
    public var line: Int?
    public var reason: String

    public var description: String {
        let place = line.map { ":\($0)" } ?? ""
        let keyText = key.isEmpty ? "" : " \(key):"
        return "\(file)\(place):\(keyText) \(reason)"
    }
}

private struct ConfigReader {
    let file: String
    let baseDirectory: String

    func fail(_ key: String, _ node: Node?, _ reason: String) -> RouterConfigError {
        RouterConfigError(file: file, key: key, line: node?.mark.map { $0.line }, reason: reason)
    }

    func mapping(_ node: Node, _ key: String, allowed: Set<String>) throws(RouterConfigError) -> [String: Node] {
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

    func string(_ node: Node?, _ key: String) throws(RouterConfigError) -> String? {
        guard let node else { return nil }
        guard let text = node.string else { throw fail(key, node, "expected a string") }
        return text
    }

    func strings(_ node: Node?, _ key: String) throws(RouterConfigError) -> [String] {
        guard let node else { return [] }
        if let text = node.string { return [text] }
        guard let sequence = node.sequence else { throw fail(key, node, "expected a list of strings") }
        var result: [String] = []
        for (index, item) in sequence.enumerated() {
            guard let text = item.string else { throw fail("\(key)[\(index)]", item, "expected a string") }
            result.append(text)
        }
        return result
    }

    func address(_ node: Node?, _ key: String) throws(RouterConfigError) -> HostAndPort? {
        guard let text = try string(node, key) else { return nil }
        guard let address = HostAndPort(parsing: text) else {
            throw fail(key, node, "\"\(text)\" is not an address of the form host:port")
        }
        return address
    }

    func duration(_ node: Node?, _ key: String) throws(RouterConfigError) -> TimeAmount? {
        guard let text = try string(node, key) else { return nil }
        guard let amount = DurationText.parse(text) else {
            throw fail(key, node, "\"\(text)\" is not a duration (use e.g. 500ms, 15s, 2m, 1h)")
        }
        return amount
    }

    func path(_ node: Node?, _ key: String) throws(RouterConfigError) -> String? {
        guard let text = try string(node, key) else { return nil }
        let full = text.hasPrefix("/") ? text : (baseDirectory as NSString).appendingPathComponent(text)
        guard FileManager.default.fileExists(atPath: full) else { throw fail(key, node, "file \"\(full)\" does not exist") }
        return full
    }

    func configuration(_ root: Node) throws(RouterConfigError) -> RouterConfiguration {
        let top = try mapping(root, "", allowed: ["version", "proxy_service", "databases", "routes", "audit", "clusters"])
        if let version = try string(top["version"], "version"), version != "v2" {
            throw fail("version", top["version"], "unsupported version \"\(version)\" (expected v2)")
        }
        guard let serviceNode = top["proxy_service"] else { throw fail("proxy_service", root, "missing section") }
        let service = try mapping(serviceNode, "proxy_service", allowed: [
            "web_listen_addr", "public_addr", "https_keypairs", "client_ca_file", "ping_interval", "ping_framing",
            "handshake_timeout", "connect_timeout", "login_timeout", "proxy_protocol", "postgres_listen_addr", "connection_limits",
            "mysql_listen_addr", "mongo_listen_addr", "mysql_server_version",
        ])
        guard let listen = try address(service["web_listen_addr"], "proxy_service.web_listen_addr") else {
            throw fail("proxy_service.web_listen_addr", serviceNode, "missing (e.g. 127.0.0.1:3080)")
        }
        _ = try strings(service["public_addr"], "proxy_service.public_addr")
        let keypairs = try keypairs(service["https_keypairs"], parent: serviceNode)
        guard let caPath = try path(service["client_ca_file"], "proxy_service.client_ca_file") else {
            throw fail("proxy_service.client_ca_file", serviceNode, "missing (the CA that issues user certificates)")
        }
        let clientCA: [NIOSSLCertificate]
        do {
            clientCA = try TLSMaterial.loadCertificates(file: caPath)
        } catch {
            throw fail("proxy_service.client_ca_file", service["client_ca_file"], error.description)
        }
        var timeouts = ProxyTimeouts()
        if let handshake = try duration(service["handshake_timeout"], "proxy_service.handshake_timeout") { timeouts.handshake = handshake }
        if let connect = try duration(service["connect_timeout"], "proxy_service.connect_timeout") { timeouts.connect = connect }
        if let login = try duration(service["login_timeout"], "proxy_service.login_timeout") { timeouts.login = login }
        let pingInterval = try duration(service["ping_interval"], "proxy_service.ping_interval") ?? .seconds(30)
        var pingFraming = true
        if let node = service["ping_framing"] {
            guard let flag = node.bool else { throw fail("proxy_service.ping_framing", node, "expected true or false") }
            pingFraming = flag
        }
        let postgresListen = try address(service["postgres_listen_addr"], "proxy_service.postgres_listen_addr")
        let clusters = try clusters(top["clusters"])
        var routes = try routes(top["routes"])
        if !clusters.isEmpty {
            try checkNoAuthRoute(routes, top["routes"])
            routes.append(Route(match: .alpnPrefix(ALPNProtocol.authPrefix), action: .clusterAuth))
        }
        var configuration = RouterConfiguration(
            listenAddress: listen, certificateChain: keypairs.first.certificateChain, privateKey: keypairs.first.privateKey,
            clientCA: clientCA, routes: routes, databases: try databases(top["databases"]),
            pingInterval: pingInterval, pingFraming: pingFraming, timeouts: timeouts,
            proxyProtocol: try proxyProtocol(service["proxy_protocol"]), audit: try audit(top["audit"]))
        configuration.postgresListenAddress = postgresListen
        configuration.mysqlListenAddress = try address(service["mysql_listen_addr"], "proxy_service.mysql_listen_addr")
        configuration.mongoListenAddress = try address(service["mongo_listen_addr"], "proxy_service.mongo_listen_addr")
        if let version = try string(service["mysql_server_version"], "proxy_service.mysql_server_version") {
            guard !version.isEmpty, !version.utf8.contains(0), version.utf8.count <= 64 else {
                throw fail("proxy_service.mysql_server_version", service["mysql_server_version"], "expected a version text of 1 to 64 bytes, e.g. 8.0.36")
            }
            configuration.mysqlServerVersion = version
        }
        configuration.additionalKeypairs = keypairs.rest
        configuration.clusters = clusters
        configuration.connectionLimits = try connectionLimits(service["connection_limits"])
        return configuration
    }

    /// `clusters: [{name: NAME, auth_addr: host:port}, ...]`: where `teleport-auth@` connections go.
    func clusters(_ node: Node?) throws(RouterConfigError) -> [ClusterAuthServer] {
        guard let node else { return [] }
        guard let list = node.sequence else { throw fail("clusters", node, "expected a list of {name, auth_addr}") }
        guard !list.isEmpty else { throw fail("clusters", node, "empty list (name at least one {name, auth_addr}, or remove clusters)") }
        var result: [ClusterAuthServer] = []
        var names = Set<String>()
        for (index, item) in list.enumerated() {
            let key = "clusters[\(index)]"
            let entry = try mapping(item, key, allowed: ["name", "auth_addr"])
            guard let name = try string(entry["name"], "\(key).name"), !name.isEmpty else {
                throw fail("\(key).name", entry["name"] ?? item, "missing (the cluster name clients encode in teleport-auth@)")
            }
            guard names.insert(name).inserted else { throw fail("\(key).name", entry["name"], "cluster \"\(name)\" is listed twice") }
            guard let address = try address(entry["auth_addr"], "\(key).auth_addr") else {
                throw fail("\(key).auth_addr", item, "missing (the cluster's auth server, e.g. 127.0.0.1:3025)")
            }
            result.append(ClusterAuthServer(name: name, address: address))
        }
        return result
    }

    /// With `clusters`, the router routes `teleport-auth@` values itself: a configured route that
    /// would take them first is a mistake.
    func checkNoAuthRoute(_ routes: [Route], _ node: Node?) throws(RouterConfigError) {
        let sample = ALPNProtocol.authPrefix + "00"
        for (index, route) in routes.enumerated() {
            let catches: Bool
            switch route.match {
            case .alpnPrefix(let prefix): catches = sample.hasPrefix(prefix) || prefix.hasPrefix(ALPNProtocol.authPrefix)
            case .alpn(let list): catches = list.contains { $0.rawValue.hasPrefix(ALPNProtocol.authPrefix) }
            case .sni, .sniPrefix: catches = false
            }
            if catches {
                let items = node?.sequence.map(Array.init) ?? []
                let item = items.indices.contains(index) ? items[index] : node
                throw fail("routes[\(index)]", item, "matches teleport-auth@ values, which clusters sends to each cluster's auth server; remove this route or the clusters section")
            }
        }
    }

    /// `connection_limits: {max_connections: N, rates: [{period: 1s, average: N, burst: N}]}`,
    /// all per client address.
    func connectionLimits(_ node: Node?) throws(RouterConfigError) -> ConnectionLimits {
        guard let node else { return .none }
        let key = "proxy_service.connection_limits"
        let entry = try mapping(node, key, allowed: ["max_connections", "rates"])
        var limits = ConnectionLimits()
        if let maxNode = entry["max_connections"] {
            limits.maxConnections = try positive(maxNode, "\(key).max_connections", example: "100")
        }
        if let ratesNode = entry["rates"] {
            guard let list = ratesNode.sequence else {
                throw fail("\(key).rates", ratesNode, "expected a list of {period, average, burst}")
            }
            for (index, item) in list.enumerated() {
                let itemKey = "\(key).rates[\(index)]"
                let rate = try mapping(item, itemKey, allowed: ["period", "average", "burst"])
                guard let period = try duration(rate["period"], "\(itemKey).period") else {
                    throw fail("\(itemKey).period", item, "missing (e.g. 1s or 1m)")
                }
                guard period.nanoseconds > 0 else { throw fail("\(itemKey).period", rate["period"], "must be longer than 0") }
                guard let averageNode = rate["average"] else {
                    throw fail("\(itemKey).average", item, "missing (new connections per period, e.g. 20)")
                }
                let average = try positive(averageNode, "\(itemKey).average", example: "20")
                var burst: Int?
                if let burstNode = rate["burst"] { burst = try positive(burstNode, "\(itemKey).burst", example: "40") }
                limits.rates.append(ConnectionRate(period: period, average: average, burst: burst))
            }
        }
        return limits
    }

    func positive(_ node: Node, _ key: String, example: String) throws(RouterConfigError) -> Int {
        guard let value = node.int, value > 0 else { throw fail(key, node, "expected a positive whole number (e.g. \(example))") }
        return value
    }

    /// `audit: {file: PATH | "-", statements: false, queue: 10000}`
    func audit(_ node: Node?) throws(RouterConfigError) -> AuditConfiguration? {
        guard let node else { return nil }
        let entry = try mapping(node, "audit", allowed: ["file", "statements", "queue"])
        guard let file = try string(entry["file"], "audit.file"), !file.isEmpty else {
            throw fail("audit.file", entry["file"] ?? node, "missing (a file to append JSON lines to, or \"-\" for standard output)")
        }
        let destination: AuditConfiguration.Destination
        if file == "-" {
            destination = .standardOutput
        } else {
            let full = file.hasPrefix("/") ? file : (baseDirectory as NSString).appendingPathComponent(file)
            var isDirectory: ObjCBool = false
            let directory = (full as NSString).deletingLastPathComponent
            guard FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw fail("audit.file", entry["file"], "directory \"\(directory)\" does not exist")
            }
            destination = .file(full)
        }
        var statements = false
        if let flag = entry["statements"] {
            guard let value = flag.bool else { throw fail("audit.statements", flag, "expected true or false") }
            statements = value
        }
        var queue = AuditConfiguration.defaultQueueCapacity
        if let queueNode = entry["queue"] {
            guard let value = queueNode.int, value > 0 else {
                throw fail("audit.queue", queueNode, "expected a positive number of records (e.g. 10000)")
            }
            queue = value
        }
        return AuditConfiguration(destination: destination, statements: statements, queueCapacity: queue)
    }

    /// `proxy_protocol: {trusted_cidrs: [CIDR, ...], header: optional | required}`
    func proxyProtocol(_ node: Node?) throws(RouterConfigError) -> ProxyProtocolConfiguration? {
        guard let node else { return nil }
        let key = "proxy_service.proxy_protocol"
        let entry = try mapping(node, key, allowed: ["trusted_cidrs", "header"])
        guard let cidrsNode = entry["trusted_cidrs"] else {
            throw fail("\(key).trusted_cidrs", node, "missing (the load balancers' addresses, e.g. [10.0.0.0/16])")
        }
        let items: [Node]
        if cidrsNode.string != nil {
            items = [cidrsNode]
        } else if let sequence = cidrsNode.sequence {
            items = Array(sequence)
        } else {
            throw fail("\(key).trusted_cidrs", cidrsNode, "expected a list of CIDR blocks")
        }
        guard !items.isEmpty else {
            throw fail("\(key).trusted_cidrs", cidrsNode, "empty list (name the load balancers' addresses, or remove proxy_protocol)")
        }
        var networks: [IPNetwork] = []
        for (index, item) in items.enumerated() {
            let itemKey = cidrsNode.sequence == nil ? "\(key).trusted_cidrs" : "\(key).trusted_cidrs[\(index)]"
            guard let text = item.string else { throw fail(itemKey, item, "expected a CIDR block such as 10.0.0.0/8 or fd00::/8") }
            do {
                networks.append(try IPNetwork(parsing: text))
            } catch {
                throw fail(itemKey, item, error.description)
            }
        }
        var header = ProxyProtocolConfiguration.HeaderRequirement.optional
        if let text = try string(entry["header"], "\(key).header") {
            guard let parsed = ProxyProtocolConfiguration.HeaderRequirement(rawValue: text) else {
                throw fail("\(key).header", entry["header"], "expected optional or required")
            }
            header = parsed
        }
        return ProxyProtocolConfiguration(trustedNetworks: networks, header: header)
    }

    /// `https_keypairs: [{cert_file, key_file}, ...]`: the first one is the default; the others
    /// are chosen by server name, so each needs DNS names in its certificate.
    func keypairs(_ node: Node?, parent: Node) throws(RouterConfigError) -> (first: ServerKeypair, rest: [ServerKeypair]) {
        let key = "proxy_service.https_keypairs"
        guard let node else { throw fail(key, parent, "missing (a list of {cert_file, key_file})") }
        guard let list = node.sequence, let firstNode = list.first else { throw fail(key, node, "expected a list of {cert_file, key_file}") }
        var result: [ServerKeypair] = []
        for (index, item) in list.enumerated() {
            let itemKey = "\(key)[\(index)]"
            let entry = try mapping(item, itemKey, allowed: ["cert_file", "key_file"])
            guard let certPath = try path(entry["cert_file"], "\(itemKey).cert_file") else { throw fail("\(itemKey).cert_file", item, "missing") }
            guard let keyPath = try path(entry["key_file"], "\(itemKey).key_file") else { throw fail("\(itemKey).key_file", item, "missing") }
            let keypair: ServerKeypair
            do {
                keypair = ServerKeypair(certificateChain: try TLSMaterial.loadCertificates(file: certPath), privateKey: try TLSMaterial.loadKey(file: keyPath))
            } catch {
                throw fail(itemKey, item, error.description)
            }
            if index > 0, keypair.serverNames.isEmpty {
                throw fail("\(itemKey).cert_file", entry["cert_file"], "the certificate has no DNS names, so no server name would choose it (only the first keypair serves clients whose name matches none)")
            }
            result.append(keypair)
        }
        guard let first = result.first else { throw fail(key, firstNode, "expected a list of {cert_file, key_file}") }
        return (first, Array(result.dropFirst()))
    }

    func databases(_ node: Node?) throws(RouterConfigError) -> [DatabaseRoute] {
        guard let node else { return [] }
        guard let list = node.sequence else { throw fail("databases", node, "expected a list") }
        var result: [DatabaseRoute] = []
        var names = Set<String>()
        for (index, item) in list.enumerated() {
            let key = "databases[\(index)]"
            let entry = try mapping(item, key, allowed: ["name", "protocol", "uri", "tls"])
            guard let name = try string(entry["name"], "\(key).name"), !name.isEmpty else { throw fail("\(key).name", item, "missing") }
            guard names.insert(name).inserted else { throw fail("\(key).name", entry["name"], "database \"\(name)\" is listed twice") }
            guard let protocolName = try string(entry["protocol"], "\(key).protocol") else { throw fail("\(key).protocol", item, "missing") }
            let databaseProtocol: DatabaseProtocol
            do {
                databaseProtocol = try DatabaseProtocol(name: protocolName)
            } catch {
                throw fail("\(key).protocol", entry["protocol"], error.description)
            }
            guard let uri = try address(entry["uri"], "\(key).uri") else { throw fail("\(key).uri", item, "missing") }
            let tls = try databaseTLS(entry["tls"], "\(key).tls")
            result.append(DatabaseRoute(name: name, databaseProtocol: databaseProtocol, address: uri, tls: tls))
        }
        return result
    }

    /// `tls: {mode: disable | require | verify-ca | verify-full, ca_file: FILE, server_name: NAME}`
    func databaseTLS(_ node: Node?, _ key: String) throws(RouterConfigError) -> DatabaseTLS {
        guard let node else { return .disabled }
        let entry = try mapping(node, key, allowed: ["mode", "ca_file", "server_name"])
        guard let modeText = try string(entry["mode"], "\(key).mode") else {
            throw fail("\(key).mode", node, "missing (disable, require, verify-ca or verify-full)")
        }
        guard let mode = DatabaseTLS.Mode(rawValue: modeText) else {
            throw fail("\(key).mode", entry["mode"], "\"\(modeText)\" is not one of disable, require, verify-ca, verify-full")
        }
        var roots: [NIOSSLCertificate] = []
        if let caPath = try path(entry["ca_file"], "\(key).ca_file") {
            do {
                roots = try TLSMaterial.loadCertificates(file: caPath)
            } catch {
                throw fail("\(key).ca_file", entry["ca_file"], error.description)
            }
        }
        let serverName = try string(entry["server_name"], "\(key).server_name")
        return DatabaseTLS(mode: mode, trustRoots: roots, serverName: serverName)
    }

    func routes(_ node: Node?) throws(RouterConfigError) -> [Route] {
        guard let node else { return [] }
        guard let list = node.sequence else { throw fail("routes", node, "expected a list") }
        var result: [Route] = []
        for (index, item) in list.enumerated() {
            let key = "routes[\(index)]"
            let entry = try mapping(item, key, allowed: ["alpn", "alpn_prefix", "sni", "sni_prefix", "forward", "forward_tls", "client_cert"])
            var matches: [RouteMatch] = []
            if entry["alpn"] != nil {
                let values = try strings(entry["alpn"], "\(key).alpn")
                guard !values.isEmpty else { throw fail("\(key).alpn", entry["alpn"], "empty list") }
                matches.append(.alpn(values.map(ALPNProtocol.init(rawValue:))))
            }
            if let prefix = try string(entry["alpn_prefix"], "\(key).alpn_prefix") { matches.append(.alpnPrefix(prefix)) }
            if let prefix = try string(entry["sni_prefix"], "\(key).sni_prefix") { matches.append(.sniPrefix(prefix)) }
            if let text = try string(entry["sni"], "\(key).sni") {
                let pattern: ServerNamePattern
                do {
                    pattern = try ServerNamePattern(parsing: text)
                } catch {
                    throw fail("\(key).sni", entry["sni"], "\(error.description) (use a name such as grafana.example.com or \"*.apps.example.com\")")
                }
                if let earlier = result.firstIndex(where: { $0.match == .sni(pattern) }) {
                    throw fail("\(key).sni", entry["sni"], "\(pattern) is already routed by routes[\(earlier)]")
                }
                matches.append(.sni(pattern))
            }
            guard matches.count == 1, let match = matches.first else {
                throw fail(key, item, "needs exactly one of alpn, alpn_prefix, sni, sni_prefix")
            }
            let forward = try address(entry["forward"], "\(key).forward")
            let forwardTLS = try address(entry["forward_tls"], "\(key).forward_tls")
            let action: RouteAction
            switch (forward, forwardTLS) {
            case (let target?, nil): action = .forward(target)
            case (nil, let target?): action = .forwardTLS(target)
            default: throw fail(key, item, "needs exactly one of forward, forward_tls")
            }
            var policy = ClientCertificatePolicy.required
            if let text = try string(entry["client_cert"], "\(key).client_cert") {
                guard let parsed = ClientCertificatePolicy(rawValue: text) else {
                    throw fail("\(key).client_cert", entry["client_cert"], "expected required or optional")
                }
                policy = parsed
            }
            result.append(Route(match: match, action: action, clientCertificate: policy))
        }
        return result
    }
}
