import ArgumentParser
import Foundation
import LocalDBProxy
import NIOCore
import ProxyCore

struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy", abstract: "Run a local proxy that tunnels database clients to the router over mutual TLS.")

    @Option(help: "Router address, HOST:PORT.")
    var proxy: String

    @Option(help: "User certificate (PEM) carrying the database route.")
    var cert: String

    @Option(help: "Private key of the user certificate (PEM).")
    var key: String

    @Option(help: "CA bundle that signs the router's certificate (PEM).")
    var ca: String?

    @Option(help: "Local port to listen on (0: any free port).")
    var port: Int = 0

    @Option(help: "Local address to listen on.")
    var listen: String = "127.0.0.1"

    @Option(help: "Listen on a unix socket in this directory instead of TCP (PostgreSQL: DIR/.s.PGSQL.<port>, so `psql -h DIR` works; others: DIR/<service>.sock). Mode 0600.")
    var unixSocket: String?

    @Option(help: "Server name (SNI) sent to the router; defaults to the router host.")
    var sni: String?

    @Flag(help: "Do not verify the router's certificate.")
    var insecure = false

    @Option(help: "MySQL server version to announce to the router (ALPN teleport-mysql-<base64>), e.g. 8.0.36.")
    var mysqlServerVersion: String?

    @Flag(help: "Offer TLS to database clients on the local socket (PostgreSQL: SSLRequest and direct TLS; MySQL: CLIENT_SSL).")
    var localTLS = false

    @Option(help: "Where the local CA and localhost certificate live; created on first use.")
    var localTLSDir: String = LocalTLSDefaults.directory

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard ca != nil || insecure else { throw ValidationError("pass --ca FILE to verify the router, or --insecure") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
    }

    func run() async throws {
        try logging.bootstrap()
        guard let colon = proxy.lastIndex(of: ":"), let routerPort = Int(proxy[proxy.index(after: colon)...]) else {
            throw ValidationError("--proxy must be HOST:PORT")
        }
        let routerHost = String(proxy[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let material: TLSMaterial
        do {
            material = try TLSMaterial.load(certificateFile: cert, keyFile: key, caFile: ca)
        } catch {
            throw ValidationError(error.description)
        }
        var localTLSFiles: LocalTLSFiles?
        var localMaterial: TLSMaterial?
        if localTLS {
            let files = LocalTLSFiles(directory: localTLSDir)
            do {
                let (loaded, created) = try files.loadOrCreate()
                localMaterial = loaded
                if created { say("Created a local CA and a localhost certificate in \(files.directory) (clients verify with \(files.caCertificate)).") }
            } catch {
                throw ValidationError("local TLS in \(localTLSDir): \(error)")
            }
            localTLSFiles = files
        }
        let certificateIdentity = try? material.identity()
        let postgresSocket = (try? certificateIdentity?.databaseProtocol())?.isPostgresWire ?? false
        let socketPort = port == 0 ? 5432 : port
        let socketPath = unixSocket.map { directory in
            postgresSocket
                ? (directory as NSString).appendingPathComponent(".s.PGSQL.\(socketPort)")
                : (directory as NSString).appendingPathComponent("\(certificateIdentity?.routeToDatabase.serviceName ?? "database").sock")
        }
        let configuration = LocalProxyConfiguration(
            routerHost: routerHost, routerPort: routerPort, tls: material, serverName: sni, insecure: insecure,
            listenHost: listen, listenPort: port, mysqlServerVersion: mysqlServerVersion, localTLS: localMaterial,
            unixSocketPath: socketPath)
        let localProxy: LocalProxy
        do {
            localProxy = try LocalProxy(configuration: configuration)
        } catch let error as IdentityError {
            throw ValidationError("\(cert): \(error)")
        }
        let identity = localProxy.identity
        do {
            try identity.checkValidity(at: Date())
        } catch {
            FileHandle.standardError.write(Data("warning: \(error); connections will be refused until it is renewed\n".utf8))
        }
        let address = try await localProxy.start()
        let route = identity.routeToDatabase
        say("Started authenticated tunnel for the \(localProxy.databaseProtocol.displayName) database \"\(route.serviceName)\" on \(address.displayString) (router \(proxy), ALPN \(localProxy.applicationProtocols.map(\.rawValue).joined(separator: ", ")); certificate valid until \(Timestamp.format(identity.notAfter))).")
        if port == 0, unixSocket == nil {
            say("To avoid port randomization, you can choose the listening port using the --port flag.")
        }
        let command: String?
        if let unixSocket, let socketPath {
            command = ConnectCommandText.unixSocket(
                protocol: localProxy.databaseProtocol, route: route, directory: unixSocket, path: socketPath, port: socketPort)
        } else {
            command = ConnectCommandText.make(
                protocol: localProxy.databaseProtocol, route: route, host: "localhost", port: address.port ?? port,
                localCA: localTLSFiles?.caCertificate)
        }
        if let command {
            say("Use the following command to connect to the database or to the address above using other database GUI/CLI clients:")
            say("  $ \(command)")
        }
        _ = await SignalWaiter.waitForTermination()
        await localProxy.stop(deadline: .now() + .seconds(5))
    }
}

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
            let encoded = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? path
            return "mongosh \"mongodb://\(encoded)/\(database)?directConnection=true&serverSelectionTimeoutMS=5000\""
        default:
            return nil
        }
    }
}

/// Where `--local-tls` keeps its material unless told otherwise.
enum LocalTLSDefaults {
    static var directory: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? FileManager.default.currentDirectoryPath
        return (home as NSString).appendingPathComponent(".dbproxy/local-tls")
    }
}
