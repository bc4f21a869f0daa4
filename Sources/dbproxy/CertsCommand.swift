import ArgumentParser
import Foundation
import ProxyCore

struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs", abstract: "Development certificates: CAs, the router's certificate, user certificates.",
        subcommands: [Init.self, Issue.self, Show.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user CA, a host CA and a router certificate for localhost, 127.0.0.1 and proxy.localhost.")

        @Option(help: "Directory to write to.")
        var out: String

        @Option(help: "DNS names of the router certificate (repeat).")
        var dns: [String] = ["localhost", "proxy.localhost"]

        @Option(help: "IP addresses of the router certificate (repeat).")
        var ip: [String] = ["127.0.0.1", "::1"]

        @Flag(help: "Replace existing files.")
        var force = false

        func run() throws {
            let files = try DevCertificateFiles.initialize(directory: out, dnsNames: dns, ipAddresses: ip, overwrite: force)
            say("Wrote \(files.userCA), \(files.hostCA), \(files.serverCertificate) (\(dns.joined(separator: ", ")), \(ip.joined(separator: ", "))) and their keys (mode 0600).")
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a user certificate carrying a database route.")

        @Option(help: "Directory made by `certs init`.")
        var caDir: String
        @Option(help: "User name (CN).")
        var user: String
        @Option(help: "Database service name (1.3.9999.2.1).")
        var dbService: String
        @Option(help: "Database protocol (1.3.9999.2.2): postgres, mysql, mongodb, ...")
        var dbProtocol: String
        @Option(help: "Database user (1.3.9999.2.3).")
        var dbUser: String?
        @Option(help: "Database name (1.3.9999.2.4).")
        var dbName: String?
        @Option(help: "Allowed database names (repeat).")
        var allowedDbName: [String] = []
        @Option(help: "Allowed database users (repeat).")
        var allowedDbUser: [String] = []
        @Option(help: "Database roles (repeat).")
        var dbRole: [String] = []
        @Option(help: "Roles (O, repeat).")
        var role: [String] = ["dev"]
        @Option(help: "Validity, e.g. 12h, 30m, 90s.")
        var ttl: String = "12h"
        @Option(help: "Start of validity, ISO 8601 (default: one minute ago).")
        var notBefore: String?
        @Option(help: "Output prefix: writes PREFIX.pem and PREFIX-key.pem.")
        var out: String

        func run() throws {
            _ = try DatabaseProtocol(name: dbProtocol)
            guard let ttlAmount = DurationText.parse(ttl), ttlAmount > .zero else {
                throw ValidationError("--ttl \"\(ttl)\" is not a duration such as 12h")
            }
            var start = Date() - 60
            if let notBefore {
                guard let parsed = try? Date(notBefore, strategy: .iso8601) else {
                    throw ValidationError("--not-before \"\(notBefore)\" is not an ISO 8601 time such as 2026-01-01T00:00:00Z")
                }
                start = parsed
            }
            var request = UserCertificateRequest(
                user: user,
                route: RouteToDatabase(serviceName: dbService, protocolName: dbProtocol, username: dbUser ?? "", database: dbName ?? "", roles: dbRole),
                notBefore: start, validFor: TimeInterval(ttlAmount.nanoseconds) / 1e9)
            request.roles = role
            request.allowedDatabaseNames = allowedDbName
            request.allowedDatabaseUsers = allowedDbUser
            let written = try DevCertificateFiles(directory: caDir).issueUser(request, outputPrefix: out)
            say("Wrote \(written.certificate) and \(written.key) for \(user) -> \(dbService) (\(dbProtocol)), valid until \(Timestamp.format(request.notAfter)).")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the identity a certificate carries.")

        @Argument(help: "Certificate file (PEM).")
        var file: String

        func run() throws {
            let pem = try String(contentsOfFile: file, encoding: .utf8)
            let identity = try CertificateIdentity(pemEncoded: pem)
            let route = identity.routeToDatabase
            let lines: [(String, String)] = [
                ("user", identity.username),
                ("roles", identity.groups.joined(separator: ", ")),
                ("usage", identity.usage.joined(separator: ", ")),
                ("database service", route.serviceName),
                ("database protocol", route.protocolName),
                ("database user", route.username),
                ("database name", route.database),
                ("allowed database names", identity.allowedDatabaseNames.joined(separator: ", ")),
                ("allowed database users", identity.allowedDatabaseUsers.joined(separator: ", ")),
                ("database roles", route.roles.joined(separator: ", ")),
                ("cluster", identity.clusterName),
                ("valid from", Timestamp.format(identity.notBefore)),
                ("valid until", Timestamp.format(identity.notAfter)),
            ]
            for (name, value) in lines where !value.isEmpty {
                say("\(name.padding(toLength: 24, withPad: " ", startingAt: 0))\(value)")
            }
            if let alpn = try? identity.databaseProtocol().alpn {
                say("\("alpn".padding(toLength: 24, withPad: " ", startingAt: 0))\(ALPNProtocol.withPingProtocols([alpn]).map(\.rawValue).joined(separator: ", "))")
            }
        }
    }
}
