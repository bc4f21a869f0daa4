import NIOSSL
import ProxyCore

/// The material new connections use: the certificate's identity and the TLS context made from
/// it. Replaced whole when the certificate is renewed.
struct CurrentIdentity: Sendable {
    let material: TLSMaterial
    let identity: CertificateIdentity
    let sslContext: NIOSSLContext
    /// Counts replacements: connections made with an older generation use an old certificate.
    var generation: UInt64 = 0

    /// Builds the client TLS context; throws when the material is unusable (e.g. a key that does
    /// not belong to the certificate, as a half-written pair of files can be).
    init(material: TLSMaterial, applicationProtocols: [ALPNProtocol], insecure: Bool) throws {
        self.material = material
        self.identity = try material.identity()
        self.sslContext = try NIOSSLContext(configuration: .proxyClient(
            material: material, applicationProtocols: applicationProtocols.map(\.rawValue), insecure: insecure))
    }
}
