// An application's backend process embedding two local proxies, as a desktop database app
// would: one PostgreSQL and one MySQL certificate, both served from this process, run under
// swift-service-lifecycle, stopped (drained) by SIGTERM or SIGINT.
//
//     EmbeddedProxy ROUTER_HOST:PORT ROUTER_CA CERT KEY [CERT KEY ...]
//
// Prints one line per event on standard output, e.g.
//     listening pg1 postgres 127.0.0.1:40001
//     opened pg1 connection 1 dial 12ms
//     closed pg1 connection 1 sent 120 received 400
//     stopped pg1

import Foundation
import LocalDBProxy
import Logging
import ProxyCore
import ServiceLifecycle

struct Usage: Error, CustomStringConvertible {
    var description: String { "usage: EmbeddedProxy ROUTER_HOST:PORT ROUTER_CA CERT KEY [CERT KEY ...]" }
}

/// One database: its certificate files and the proxy serving it.
struct Database {
    let name: String
    let proxy: LocalProxy
}

@main
enum EmbeddedProxy {
    static func main() async {
        do {
            try await run(Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("EmbeddedProxy: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ arguments: [String]) async throws {
        guard arguments.count >= 4, arguments.count % 2 == 0,
              let colon = arguments[0].lastIndex(of: ":"), let routerPort = Int(arguments[0][arguments[0].index(after: colon)...])
        else { throw Usage() }
        let routerHost = String(arguments[0][..<colon])
        let routerCA = arguments[1]
        var logger = Logger(label: "embedded")
        logger.logLevel = .warning

        var databases: [Database] = []
        for index in stride(from: 2, to: arguments.count, by: 2) {
            let (certificate, key) = (arguments[index], arguments[index + 1])
            let material = try TLSMaterial.load(certificateFile: certificate, keyFile: key, caFile: routerCA)
            var configuration = LocalProxyConfiguration(
                routerHost: routerHost, routerPort: routerPort, tls: material, serverName: "localhost")
            if index == 2 {
                // The first database follows its files: a renewal that rewrites them is picked up.
                configuration.identitySource = .files(certificate: certificate, key: key, ca: routerCA)
            } else {
                // The others ask the application for fresh material near expiry, as an app that
                // re-issues certificates through its own backend would.
                configuration.identitySource = .provider {
                    try TLSMaterial.load(certificateFile: certificate, keyFile: key, caFile: routerCA)
                }
            }
            let proxy = try LocalProxy(configuration: configuration, logger: logger)
            databases.append(Database(name: proxy.identity.routeToDatabase.serviceName, proxy: proxy))
        }

        // Several proxies in one process, no shared state between them.
        let group = ServiceGroup(configuration: .init(
            services: databases.map { .init(service: $0.proxy) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for database in databases {
                tasks.addTask { await report(database) }
            }
            tasks.addTask { try await group.run() }
            try await tasks.waitForAll()
        }
    }

    /// Prints the events of one proxy until it stops.
    static func report(_ database: Database) async {
        let name = database.name
        for await event in database.proxy.events {
            switch event {
            case .listening(let address):
                say("listening \(name) \(database.proxy.databaseProtocol) \(address.ipAddress ?? "?"):\(address.port ?? 0)")
            case .connectionOpened(let opened):
                say("opened \(name) connection \(opened.connection) dial \(milliseconds(opened.dialDuration))ms")
            case .connectionClosed(let closed):
                say("closed \(name) connection \(closed.connection) sent \(closed.bytesFromClient) received \(closed.bytesFromRouter)")
            case .connectionFailed(let connection, _, let reason):
                say("refused \(name) connection \(connection): \(reason)")
            case .certificateExpiring(let notAfter, _):
                say("expiring \(name) at \(notAfter)")
            case .certificateExpired(let notAfter):
                say("expired \(name) at \(notAfter)")
            case .certificateReloaded(_, let serial):
                say("reloaded \(name) serial \(serial)")
            case .draining(let open):
                say("draining \(name) with \(open) open")
            case .stopped:
                say("stopped \(name)")
            }
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
