import WorkloadSupport
/// The parsed command line: `mysqlworkload CONNECTION-OPTIONS SUBCOMMAND [options]`.
struct Invocation {
    enum Subcommand {
        case roundtrip
        case prepared(count: Int)
        case queries(count: Int)
        case blob(megabytes: Int, table: String, seed: UInt64, chunkMegabytes: Int, keep: Bool)
    }

    static let usage = """
        usage: mysqlworkload --host H --port P --user U [--password PW] [--database D]
                             [--ssl-mode disabled|preferred|required|verify-ca|verify-identity] [--ssl-ca FILE]
                             SUBCOMMAND [options]
          roundtrip
          prepared  [--count N]                                         (default N=1000)
          queries   [--count N]                                         (default N=1000)
          blob      [--megabytes M] [--table T] [--seed S] [--chunk-megabytes C] [--keep]
                    (default M=64, T=mysqlworkload_blob, S=1, C=0: one bound buffer)
        --ssl-mode defaults to preferred; verify-ca and verify-identity need --ssl-ca.
        Prints key=value lines; exits 0 only if every check passes.
        """

    let connection: ConnectionOptions
    let subcommand: Subcommand

    static func parse(_ arguments: [String]) throws -> Invocation {
        guard arguments.count > 1 else { throw Failure("missing arguments", showsUsage: true) }
        var index = 1
        var globals: [String: String] = [:]
        while index < arguments.count, arguments[index].hasPrefix("--") {
            let name = arguments[index]
            guard ConnectionOptions.names.contains(name) else {
                throw Failure("unknown connection option '\(name)'", showsUsage: true)
            }
            guard index + 1 < arguments.count else { throw Failure("option \(name) needs a value", showsUsage: true) }
            globals[name] = arguments[index + 1]
            index += 2
        }
        let connection = try ConnectionOptions(globals)
        guard index < arguments.count else { throw Failure("missing subcommand", showsUsage: true) }
        let name = arguments[index]
        var options = try SubcommandOptions(Array(arguments.dropFirst(index + 1)), valueOptions: ["--count", "--megabytes", "--table", "--seed", "--chunk-megabytes"])
        let subcommand: Subcommand
        switch name {
        case "roundtrip":
            subcommand = .roundtrip
        case "prepared":
            subcommand = .prepared(count: try options.integer("--count", default: 1000, minimum: 1))
        case "queries":
            subcommand = .queries(count: try options.integer("--count", default: 1000, minimum: 1))
        case "blob":
            subcommand = .blob(
                megabytes: try options.integer("--megabytes", default: 64, minimum: 1),
                table: try options.table(default: "mysqlworkload_blob"),
                seed: UInt64(try options.integer("--seed", default: 1, minimum: 0)),
                chunkMegabytes: try options.integer("--chunk-megabytes", default: 0, minimum: 0),
                keep: options.flag("--keep")
            )
        default:
            throw Failure("unknown subcommand '\(name)'", showsUsage: true)
        }
        try options.rejectLeftovers()
        return Invocation(connection: connection, subcommand: subcommand)
    }
}

/// How to reach the server: the options before the subcommand.
struct ConnectionOptions {
    /// TLS policy, named after MySQL's `--ssl-mode`; see README.md for the libmariadb mapping.
    enum SSLMode: String, CaseIterable {
        case disabled
        case preferred
        case required
        case verifyCA = "verify-ca"
        case verifyIdentity = "verify-identity"
    }

    static let names: Set<String> = ["--host", "--port", "--user", "--password", "--database", "--ssl-mode", "--ssl-ca"]

    let host: String
    let port: UInt32
    let user: String
    let password: String?
    let database: String?
    let sslMode: SSLMode
    let sslCA: String?

    init(_ values: [String: String]) throws {
        guard let host = values["--host"], !host.isEmpty else { throw Failure("--host is required", showsUsage: true) }
        guard let portText = values["--port"] else { throw Failure("--port is required", showsUsage: true) }
        guard let port = UInt32(portText), port > 0, port < 65536 else {
            throw Failure("--port needs a TCP port number, got '\(portText)'")
        }
        guard let user = values["--user"] else { throw Failure("--user is required", showsUsage: true) }
        let modeText = values["--ssl-mode"] ?? SSLMode.preferred.rawValue
        guard let mode = SSLMode(rawValue: modeText) else {
            let valid = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
            throw Failure("--ssl-mode needs one of \(valid), got '\(modeText)'")
        }
        let ca = values["--ssl-ca"]
        if mode == .disabled, ca != nil {
            throw Failure("--ssl-ca makes libmariadb use TLS, so it cannot be combined with --ssl-mode disabled")
        }
        if mode == .verifyCA || mode == .verifyIdentity, ca == nil {
            throw Failure("--ssl-mode \(mode.rawValue) needs --ssl-ca FILE")
        }
        self.host = host
        self.port = port
        self.user = user
        self.password = values["--password"]
        self.database = values["--database"]
        self.sslMode = mode
        self.sslCA = ca
    }
}
