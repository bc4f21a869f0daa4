import Foundation
import LocalDBProxy
import Logging
import NIOCore
import ProxyCore

/// A database whose local proxy listens.
struct RunningDatabase: Sendable {
    var name: String
    var proxy: LocalProxy
    var address: SocketAddress
    /// Set when the proxy listens on a unix socket.
    var socket: UnixSocketPlace?
}

/// Where a unix socket listener lives: `DIR/.s.PGSQL.<port>` for PostgreSQL, `DIR/<name>.sock`
/// for the others.
struct UnixSocketPlace: Sendable, Hashable {
    var directory: String
    var path: String
    /// The port a PostgreSQL client names to find the socket.
    var port: Int
}

/// What became of one database at start.
enum LaunchOutcome: Sendable {
    case started(RunningDatabase)
    case failed(name: String, reason: String)
}

/// Starts one local proxy per database; a database that cannot start (unreadable certificate,
/// port in use ...) stops only itself.
struct DatabaseLauncher {
    var plan: TunnelPlan
    var listenHost = "127.0.0.1"
    var maxConnections: Int?
    /// How long before the certificate's expiry a warning is logged.
    var expiryWarning: Duration = .seconds(600)
    var localTLS: TLSMaterial?
    /// Pre-handshaken router connections per database, and their maximum age (nil: the default).
    var warmPool = 0
    var warmPoolMaxAge: Duration?
    var logger: Logger

    func launchAll() async -> [LaunchOutcome] {
        var usedSockets: Set<String> = []
        var outcomes: [LaunchOutcome] = []
        for entry in plan.databases {
            outcomes.append(await launch(entry, usedSockets: &usedSockets))
        }
        return outcomes
    }

    func launch(_ entry: DatabaseEntry, usedSockets: inout Set<String>) async -> LaunchOutcome {
        var name = entry.name ?? (entry.certificateFile as NSString).lastPathComponent
        let material: TLSMaterial
        let identity: CertificateIdentity
        do {
            material = try TLSMaterial.load(certificateFile: entry.certificateFile, keyFile: entry.keyFile, caFile: plan.caFile)
        } catch {
            return .failed(name: name, reason: error.description)  // names the file
        }
        do {
            identity = try material.identity()
        } catch {
            return .failed(name: name, reason: "\(entry.certificateFile): \(error)")
        }
        let service = identity.routeToDatabase.serviceName
        if entry.name == nil { name = service.isEmpty ? "database" : service }
        let databaseProtocol: DatabaseProtocol
        var override: DatabaseProtocol?
        do {
            if let protocolName = entry.protocolName {
                override = try DatabaseProtocol(name: protocolName)
                let named = identity.routeToDatabase.protocolName
                if !named.isEmpty, named != protocolName {
                    logger.warning(
                        "protocol \(protocolName) overrides the certificate's protocol \(named); the router routes by the certificate and may refuse the connection",
                        metadata: ["database": "\(name)"])
                }
            }
            databaseProtocol = try override ?? identity.databaseProtocol()
        } catch {
            return .failed(name: name, reason: "\(entry.certificateFile): \(error)")
        }
        var socket: UnixSocketPlace?
        if let directory = entry.socketDirectory {
            guard let place = Self.socketPlace(directory: directory, protocol: databaseProtocol, name: name, port: entry.port, used: usedSockets) else {
                return .failed(name: name, reason: "another database already listens on the unix socket for port \(entry.port ?? 5432) in \(directory)")
            }
            usedSockets.insert(place.path)
            socket = place
        }
        var configuration = LocalProxyConfiguration(
            routerHost: plan.routerHost, routerPort: plan.routerPort, tls: material, serverName: plan.serverName, insecure: plan.insecure,
            listenHost: listenHost, listenPort: socket == nil ? entry.port ?? 0 : 0, mysqlServerVersion: plan.mysqlServerVersion,
            localTLS: localTLS, unixSocketPath: socket?.path)
        configuration.databaseProtocol = override
        configuration.maxConnections = maxConnections
        // The certificate files are re-read when they change (tsh db login, a renewal job ...).
        configuration.identitySource = .files(certificate: entry.certificateFile, key: entry.keyFile, ca: plan.caFile)
        configuration.expiryWarning = expiryWarning
        configuration.warmPool = warmPool
        configuration.warmPoolMaxAge = warmPoolMaxAge
        var proxyLogger = Logger(label: "dbproxy.local")
        proxyLogger[metadataKey: "database"] = "\(name)"
        let proxy: LocalProxy
        do {
            proxy = try LocalProxy(configuration: configuration, logger: proxyLogger)
        } catch {
            return .failed(name: name, reason: "\(entry.certificateFile): \(error)")
        }
        do {
            try identity.checkValidity(at: Date())
        } catch {
            logger.warning("\(error); connections will be refused until it is renewed", metadata: ["database": "\(name)"])
        }
        do {
            let address = try await proxy.start()
            return .started(RunningDatabase(name: name, proxy: proxy, address: address, socket: socket))
        } catch {
            let place = socket?.path ?? "\(listenHost):\(entry.port ?? 0)"
            return .failed(name: name, reason: Self.listenFailure(error, place: place))
        }
    }

    /// The socket for a database in `directory`; nil when the one asked for is taken. Without
    /// a port, PostgreSQL sockets take 5432 or the next one free.
    static func socketPlace(directory: String, protocol databaseProtocol: DatabaseProtocol, name: String, port: Int?, used: Set<String>) -> UnixSocketPlace? {
        let folder = directory as NSString
        guard databaseProtocol.isPostgresWire else {
            let path = folder.appendingPathComponent("\(name).sock")
            return used.contains(path) ? nil : UnixSocketPlace(directory: directory, path: path, port: port ?? 0)
        }
        var number = port.flatMap { $0 == 0 ? nil : $0 } ?? 5432
        while used.contains(folder.appendingPathComponent(".s.PGSQL.\(number)")) {
            guard port == nil || port == 0, number < 65535 else { return nil }
            number += 1
        }
        return UnixSocketPlace(directory: directory, path: folder.appendingPathComponent(".s.PGSQL.\(number)"), port: number)
    }

    /// Why binding failed, in words: a port in use is the usual case.
    static func listenFailure(_ error: any Error, place: String) -> String {
        if let io = error as? IOError, io.errnoCode == EADDRINUSE {
            return "cannot listen on \(place): address already in use"
        }
        return "cannot listen on \(place): \(error)"
    }
}
