import ArgumentParser
import ProxyCore

/// How to reach the router and with which certificates; shared by `proxy` and `connect`.
struct TunnelOptions: ParsableArguments {
    @Option(help: "Router address, HOST:PORT (or `router:` in --config).")
    var proxy: String?

    @Option(help: "User certificate (PEM) carrying the database route.")
    var cert: String?

    @Option(help: "Private key of the user certificate (PEM).")
    var key: String?

    @Option(help: "CA bundle that signs the router's certificate (PEM).")
    var ca: String?

    @Option(help: ArgumentHelp(
        "A folder with cert.pem, key.pem and ca.pem, instead of --cert, --key and --ca.", valueName: "dir"))
    var identity: String?

    @Option(name: .customLong("db"), help: ArgumentHelp(
        "A database to serve (repeat): NAME=CERT[,port=N][,socket=DIR][,protocol=P]. CERT is a folder with cert.pem and key.pem, or a prefix naming PREFIX.pem and PREFIX-key.pem (what `certs issue --out PREFIX` writes).",
        valueName: "spec"))
    var databases: [String] = []

    @Option(help: ArgumentHelp("A YAML file naming the router, the CA and the databases (see README).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("protocol"), help: ArgumentHelp(
        "Database protocol to speak (postgres, mysql, mongodb, ...), overriding the certificate's.", valueName: "name"))
    var protocolName: String?

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

    /// Whether the databases come from --db or --config rather than one certificate.
    var isMultiple: Bool { !databases.isEmpty || config != nil }

    func validate() throws {
        if identity != nil, cert != nil || key != nil {
            throw ValidationError("pass either --identity DIR or --cert and --key, not both")
        }
        if isMultiple, identity != nil || cert != nil || key != nil {
            throw ValidationError("--db and --config name their own certificates; leave out --cert, --key and --identity")
        }
        if !isMultiple, identity == nil {
            guard cert != nil, key != nil else {
                throw ValidationError("pass --cert FILE and --key FILE, --identity DIR, --db NAME=CERT or --config FILE")
            }
        }
        if let protocolName {
            do { _ = try DatabaseProtocol(name: protocolName) } catch { throw ValidationError("--protocol: \(error)") }
        }
    }
}
