import NIOSSL

/// How the router secures its connection to a database, in the database's own way (for
/// PostgreSQL: SSLRequest, then TLS). The modes are libpq's `sslmode` names.
public struct DatabaseTLS: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Plain connection; no SSLRequest is sent.
        case disable
        /// TLS required; the server certificate is not checked.
        case require
        /// TLS required; the certificate must chain to the trust roots.
        case verifyCA = "verify-ca"
        /// TLS required; the certificate must chain to the trust roots and name the server.
        case verifyFull = "verify-full"
    }

    public var mode: Mode
    /// CAs that sign the database's certificate; empty: the system's trust store.
    public var trustRoots: [NIOSSLCertificate]
    /// The name checked in `verify-full` mode and sent as SNI; nil: the host of the address.
    public var serverName: String?

    public init(mode: Mode, trustRoots: [NIOSSLCertificate] = [], serverName: String? = nil) {
        self.mode = mode
        self.trustRoots = trustRoots
        self.serverName = serverName
    }

    public static let disabled = DatabaseTLS(mode: .disable)

    /// The client configuration for the mode; nil when TLS is off.
    func clientConfiguration() -> TLSConfiguration? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if !trustRoots.isEmpty { configuration.trustRoots = .certificates(trustRoots) }
        switch mode {
        case .disable: return nil
        case .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        return configuration
    }
}
