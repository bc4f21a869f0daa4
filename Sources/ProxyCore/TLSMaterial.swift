import Foundation
import NIOSSL
import X509

/// A certificate chain, its private key and the CA certificates trusted for the peer, loaded
/// from PEM files.
public struct TLSMaterial: Sendable {
    /// Leaf first.
    public var certificateChain: [NIOSSLCertificate]
    public var privateKey: NIOSSLPrivateKey
    /// CAs that may have issued the peer's certificate.
    public var trustRoots: [NIOSSLCertificate]
    /// The leaf as an X.509 value, for reading identity and validity.
    public var leaf: Certificate

    public init(certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, trustRoots: [NIOSSLCertificate]) throws(TLSMaterialError) {
        guard let first = certificateChain.first else { throw .noCertificate(file: "(memory)") }
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.trustRoots = trustRoots
        self.leaf = try Self.x509(first, file: "(memory)")
    }

    /// Loads the certificate chain, key and CA bundle from PEM files.
    public static func load(certificateFile: String, keyFile: String, caFile: String?) throws(TLSMaterialError) -> TLSMaterial {
        let chain = try loadCertificates(file: certificateFile)
        let key = try loadKey(file: keyFile)
        let roots = try caFile.map { path throws(TLSMaterialError) in try loadCertificates(file: path) } ?? []
        guard let first = chain.first else { throw .noCertificate(file: certificateFile) }
        var material = try TLSMaterial(certificateChain: chain, privateKey: key, trustRoots: roots)
        material.leaf = try x509(first, file: certificateFile)
        return material
    }

    /// Loads every certificate of a PEM file.
    public static func loadCertificates(file: String) throws(TLSMaterialError) -> [NIOSSLCertificate] {
        let bytes = try read(file)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw .unreadable(file: file, reason: "not a PEM certificate file (\(error))")
        }
        guard !certificates.isEmpty else { throw .noCertificate(file: file) }
        return certificates
    }

    /// Loads a PEM private key (PKCS#8, SEC1 or PKCS#1).
    public static func loadKey(file: String) throws(TLSMaterialError) -> NIOSSLPrivateKey {
        let bytes = try read(file)
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
        } catch {
            throw .unreadable(file: file, reason: "not a PEM private key (\(error))")
        }
    }

    private static func read(_ file: String) throws(TLSMaterialError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: file) else { throw .missingFile(file) }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .unreadable(file: file, reason: "cannot read the file")
        }
        return Array(data)
    }

    private static func x509(_ certificate: NIOSSLCertificate, file: String) throws(TLSMaterialError) -> Certificate {
        do {
            return try Certificate(derEncoded: certificate.toDERBytes())
        } catch {
            throw .unreadable(file: file, reason: "certificate cannot be parsed (\(error))")
        }
    }

    /// The identity in the leaf certificate's subject.
    public func identity() throws(IdentityError) -> CertificateIdentity {
        try CertificateIdentity(certificate: leaf)
    }
}

/// Why TLS files could not be loaded.
public enum TLSMaterialError: Error, Hashable, CustomStringConvertible {
    case missingFile(String)
    case unreadable(file: String, reason: String)
    case noCertificate(file: String)

    public var description: String {
        switch self {
        case .missingFile(let file): "\(file): no such file"
        case .unreadable(let file, let reason): "\(file): \(reason)"
        case .noCertificate(let file): "\(file): contains no certificate"
        }
    }
}

extension TLSConfiguration {
    /// A server configuration for the router: TLS 1.2 or later, the server's certificate, the user
    /// CA as trust roots for client certificates (requested always, required when
    /// `requireClientCertificate`), and the ALPN protocols in server preference order.
    public static func routerServer(
        certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, clientCA: [NIOSSLCertificate],
        requireClientCertificate: Bool, applicationProtocols: [String]
    ) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificateChain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates(clientCA)
        // Hostname checks make no sense for client certificates; the chain is still verified.
        configuration.certificateVerification = requireClientCertificate ? .noHostnameVerification : .optionalVerification
        configuration.applicationProtocols = applicationProtocols
        return configuration
    }

    /// A client configuration for a local proxy dialling the router with the user's certificate.
    /// `insecure` skips verification of the router's certificate.
    /// TLS that a local proxy offers its database clients: its own certificate, no client
    /// certificate asked for, TLS 1.2 minimum.
    public static func localServer(material: TLSMaterial, applicationProtocols: [String]) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: material.certificateChain.map { .certificate($0) }, privateKey: .privateKey(material.privateKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = applicationProtocols
        return configuration
    }

    public static func proxyClient(material: TLSMaterial, applicationProtocols: [String], insecure: Bool) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateChain = material.certificateChain.map { .certificate($0) }
        configuration.privateKey = .privateKey(material.privateKey)
        if insecure {
            configuration.certificateVerification = .none
        } else if !material.trustRoots.isEmpty {
            configuration.trustRoots = .certificates(material.trustRoots)
        }
        configuration.applicationProtocols = applicationProtocols
        return configuration
    }
}
