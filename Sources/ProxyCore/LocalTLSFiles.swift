import Foundation

/// TLS material for the local socket between database clients and a local proxy: a local CA and
/// a certificate for `localhost`, `127.0.0.1` and `::1`, created on first use in a directory.
public struct LocalTLSFiles: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The CA clients trust (`sslrootcert=` for libpq).
    public var caCertificate: String { path("local-ca.pem") }
    public var caKey: String { path("local-ca-key.pem") }
    public var serverCertificate: String { path("localhost.pem") }
    public var serverKey: String { path("localhost-key.pem") }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// Loads the material, creating it first when the directory has none. Returns whether it
    /// was created now.
    public func loadOrCreate(now: Date = Date()) throws -> (material: TLSMaterial, created: Bool) {
        let manager = FileManager.default
        var created = false
        if !manager.fileExists(atPath: serverCertificate) || !manager.fileExists(atPath: serverKey) {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let ca = try DevCertificateAuthority.make(commonName: "LocalDBProxy local CA", now: now)
            let server = try ca.issueServer(
                commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"], now: now,
                validFor: 365 * 86400)
            try DevCertificateFiles.write(try ca.ca.certificatePEM, to: caCertificate, secret: false)
            try DevCertificateFiles.write(ca.ca.privateKeyPEM, to: caKey, secret: true)
            try DevCertificateFiles.write(try server.certificatePEM, to: serverCertificate, secret: false)
            try DevCertificateFiles.write(server.privateKeyPEM, to: serverKey, secret: true)
            created = true
        }
        let material = try TLSMaterial.load(certificateFile: serverCertificate, keyFile: serverKey, caFile: caCertificate)
        return (material, created)
    }
}
