import ProxyCore
import X509

/// Client certificates for the state machine tests, issued by a throwaway user CA.
enum TestCertificates {
    static func user(_ name: String, service: String = "", protocolName: String = "") throws -> Certificate {
        let ca = try DevCertificateAuthority.make(commonName: "ServerALPNTests user CA")
        let route = RouteToDatabase(serviceName: service, protocolName: protocolName, username: name)
        return try ca.issueUser(UserCertificateRequest(user: name, route: route)).certificate
    }
}
