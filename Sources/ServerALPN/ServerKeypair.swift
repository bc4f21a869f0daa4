import NIOSSL
import X509

/// A server certificate chain (leaf first), its key, and the DNS names the leaf is valid for.
public struct ServerKeypair: Sendable {
    public var certificateChain: [NIOSSLCertificate]
    public var privateKey: NIOSSLPrivateKey
    /// The leaf's DNS subject alternative names (wildcards included); empty when it has none or
    /// cannot be parsed.
    public let serverNames: [ServerNamePattern]

    public init(certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        serverNames = certificateChain.first.map(Self.dnsNames(of:)) ?? []
    }

    private static func dnsNames(of leaf: NIOSSLCertificate) -> [ServerNamePattern] {
        guard let der = try? leaf.toDERBytes(), let certificate = try? Certificate(derEncoded: der),
              let names = try? certificate.extensions.subjectAlternativeNames
        else { return [] }
        return names.compactMap { name in
            guard case .dnsName(let text) = name else { return nil }
            return try? ServerNamePattern(parsing: text)
        }
    }
}

/// Picks the server certificate for a ClientHello: the first keypair whose DNS names hold the
/// server name exactly, else the first whose wildcard covers it, else the first keypair (also
/// when no server name was sent).
public struct ServerKeypairChooser: Sendable, Hashable {
    /// Each keypair's DNS names, in configuration order.
    public let names: [[ServerNamePattern]]

    public init(names: [[ServerNamePattern]]) {
        self.names = names
    }

    public init(_ keypairs: [ServerKeypair]) {
        self.init(names: keypairs.map(\.serverNames))
    }

    /// The index of the keypair to present (0 when nothing matches).
    public func index(for serverName: String?) -> Int {
        guard let serverName, !serverName.isEmpty else { return 0 }
        if let exact = names.firstIndex(where: { list in list.contains { !$0.isWildcard && $0.matches(serverName) } }) {
            return exact
        }
        return names.firstIndex { list in list.contains { $0.isWildcard && $0.matches(serverName) } } ?? 0
    }
}
