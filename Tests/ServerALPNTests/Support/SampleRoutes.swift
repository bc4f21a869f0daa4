import Foundation
import ProxyCore
import ServerALPN

/// The route table of the sample configuration (see RouterConfigFileTests), built in code.
enum SampleRoutes {
    static let ssh = HostAndPort(host: "127.0.0.1", port: 3023)
    static let kube = HostAndPort(host: "127.0.0.1", port: 3026)
    static let auth = HostAndPort(host: "127.0.0.1", port: 3025)
    static let web = HostAndPort(host: "127.0.0.1", port: 8080)
    static let tcp = HostAndPort(host: "127.0.0.1", port: 4000)
    static let pg1 = DatabaseRoute(name: "pg1", databaseProtocol: .postgres, address: HostAndPort(host: "127.0.0.1", port: 5432))
    static let my1 = DatabaseRoute(name: "my1", databaseProtocol: .mysql, address: HostAndPort(host: "127.0.0.1", port: 3306))

    static let routes: [Route] = [
        Route(match: .alpn([.proxySSH]), action: .forward(ssh)),  // 0
        Route(match: .sniPrefix(ALPNProtocol.kubeSNIPrefix), action: .forwardTLS(kube)),  // 1
        Route(match: .alpnPrefix(ALPNProtocol.authPrefix), action: .forwardTLS(auth)),  // 2
        Route(match: .alpn([.http1, .http2]), action: .forward(web), clientCertificate: .optional),  // 3
        Route(match: .alpn([.tcp]), action: .forward(tcp)),  // 4
    ]

    static func table(pingFraming: Bool = true) -> RouteTable {
        RouteTable(routes: routes, databases: [pg1, my1], pingFraming: pingFraming)
    }

    static func hello(_ protocols: [String], serverName: String? = "proxy.localhost") -> ClientHello {
        ClientHello(serverName: serverName, applicationProtocols: protocols)
    }

    /// An identity as a verified certificate would carry it.
    static func identity(
        user: String = "alice", service: String = "", protocolName: String = "", usage: [String] = [IdentityAttribute.databaseUsage]
    ) -> CertificateIdentity {
        CertificateIdentity(
            username: user, groups: ["dev"], usage: usage,
            routeToDatabase: RouteToDatabase(serviceName: service, protocolName: protocolName),
            notBefore: Date(timeIntervalSince1970: 1_700_000_000), notAfter: Date(timeIntervalSince1970: 1_900_000_000))
    }
}
