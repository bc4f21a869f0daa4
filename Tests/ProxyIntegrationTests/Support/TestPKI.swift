import Foundation
import NIOSSL
import ProxyCore
import X509

/// Certificates for one test: a user CA, a host CA, the router's certificate and user
/// certificates on demand, all made in memory. User certificates name the `redis` protocol
/// unless told otherwise: no protocol handler of either proxy touches its bytes.
struct TestPKI {
    let userCA: DevCertificateAuthority
    let hostCA: DevCertificateAuthority
    let server: IssuedCertificate

    init() throws {
        userCA = try DevCertificateAuthority.make(commonName: "Test user CA")
        hostCA = try DevCertificateAuthority.make(commonName: "Test host CA")
        server = try hostCA.issueServer(commonName: "localhost", dnsNames: ["localhost", "proxy.localhost"], ipAddresses: ["127.0.0.1"])
    }

    var serverChain: [NIOSSLCertificate] { get throws { [try Self.nio(server.certificatePEM)] } }
    var serverKey: NIOSSLPrivateKey { get throws { try NIOSSLPrivateKey(bytes: Array(server.privateKeyPEM.utf8), format: .pem) } }
    var userCACertificates: [NIOSSLCertificate] { get throws { [try Self.nio(userCA.ca.certificatePEM)] } }
    var hostCACertificates: [NIOSSLCertificate] { get throws { [try Self.nio(hostCA.ca.certificatePEM)] } }

    /// TLS material of a database user certificate, signed by the user CA unless `issuer` is given.
    func user(
        _ name: String = "alice", service: String = "echo1", protocolName: String = "redis",
        notBefore: Date = Date() - 60, validFor: TimeInterval = 3600, issuer: DevCertificateAuthority? = nil,
        database: String = "appdb"
    ) throws -> TLSMaterial {
        var request = UserCertificateRequest(
            user: name, route: RouteToDatabase(serviceName: service, protocolName: protocolName, username: name, database: database),
            notBefore: notBefore, validFor: validFor)
        request.roles = ["dev"]
        let issued = try (issuer ?? userCA).issueUser(request)
        return try TLSMaterial(
            certificateChain: [try Self.nio(issued.certificatePEM)],
            privateKey: try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem),
            trustRoots: try hostCACertificates)
    }

    /// Writes PEM files for tools such as `openssl s_client`; returns their paths.
    func writeFiles(user material: IssuedCertificate, to directory: String) throws -> (cert: String, key: String, hostCA: String) {
        let cert = directory + "/user.pem", key = directory + "/user-key.pem", ca = directory + "/host-ca.pem"
        try DevCertificateFiles.write(try material.certificatePEM, to: cert, secret: false)
        try DevCertificateFiles.write(material.privateKeyPEM, to: key, secret: true)
        try DevCertificateFiles.write(try hostCA.ca.certificatePEM, to: ca, secret: false)
        return (cert, key, ca)
    }

    static func nio(_ pem: String) throws -> NIOSSLCertificate {
        try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)
    }
}
