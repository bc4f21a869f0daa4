import Foundation
import NIOSSL
import ProxyCore

/// Certificates for one test, made in memory (after ProxyIntegrationTests' TestPKI): a user CA,
/// a host CA, the router's certificate, and user certificates naming the `redis` protocol, whose
/// bytes no protocol handler touches.
struct TestPKI {
    let userCA: DevCertificateAuthority
    let hostCA: DevCertificateAuthority
    let server: IssuedCertificate

    init() throws {
        userCA = try DevCertificateAuthority.make(commonName: "Test user CA")
        hostCA = try DevCertificateAuthority.make(commonName: "Test host CA")
        server = try hostCA.issueServer(commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
    }

    var serverChain: [NIOSSLCertificate] { get throws { [try Self.nio(server.certificatePEM)] } }
    var serverKey: NIOSSLPrivateKey { get throws { try NIOSSLPrivateKey(bytes: Array(server.privateKeyPEM.utf8), format: .pem) } }
    var userCACertificates: [NIOSSLCertificate] { get throws { [try Self.nio(userCA.ca.certificatePEM)] } }

    /// TLS material of a database user certificate for `service`, valid for `validFor` seconds.
    func user(_ name: String = "alice", service: String, validFor: TimeInterval = 3600) throws -> TLSMaterial {
        var request = UserCertificateRequest(
            user: name, route: RouteToDatabase(serviceName: service, protocolName: "redis", username: name, database: "appdb"),
            validFor: validFor)
        request.roles = ["dev"]
        let issued = try userCA.issueUser(request)
        return try TLSMaterial(
            certificateChain: [try Self.nio(issued.certificatePEM)],
            privateKey: try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem),
            trustRoots: [try Self.nio(hostCA.ca.certificatePEM)])
    }

    static func nio(_ pem: String) throws -> NIOSSLCertificate {
        try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)
    }
}
