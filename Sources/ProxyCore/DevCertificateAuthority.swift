import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate and its private key, in memory and as PEM.
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    public let privateKey: P256.Signing.PrivateKey

    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString + "\n" }
    }
    public var privateKeyPEM: String { privateKey.pemRepresentation + "\n" }
}

/// What a user certificate should say.
public struct UserCertificateRequest: Sendable {
    public var user: String
    public var roles: [String] = ["dev"]
    public var usage: [String] = [IdentityAttribute.databaseUsage]
    public var route: RouteToDatabase
    public var allowedDatabaseNames: [String] = []
    public var allowedDatabaseUsers: [String] = []
    public var clusterName: String = ""
    public var notBefore: Date
    public var notAfter: Date

    public init(user: String, route: RouteToDatabase = .init(), notBefore: Date = Date() - 60, validFor: TimeInterval = 12 * 3600) {
        self.user = user
        self.route = route
        self.notBefore = notBefore
        self.notAfter = notBefore + validFor
    }
}

/// A small certificate authority for development and tests: a user CA that signs client
/// certificates carrying database identities, and a host CA that signs the router's certificate.
public struct DevCertificateAuthority: Sendable {
    public let ca: IssuedCertificate

    public init(ca: IssuedCertificate) { self.ca = ca }

    /// Makes a new self-signed ECDSA P-256 CA valid for ten years.
    public static func make(commonName: String, now: Date = Date()) throws -> DevCertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("LocalDBProxy development")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 10 * 365 * 86400,
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        return DevCertificateAuthority(ca: IssuedCertificate(certificate: certificate, privateKey: key))
    }

    /// Loads a CA from its certificate and key PEM files.
    public static func load(certificateFile: String, keyFile: String) throws -> DevCertificateAuthority {
        let certificatePEM = try String(contentsOfFile: certificateFile, encoding: .utf8)
        let keyPEM = try String(contentsOfFile: keyFile, encoding: .utf8)
        return DevCertificateAuthority(ca: IssuedCertificate(
            certificate: try Certificate(pemEncoded: certificatePEM),
            privateKey: try P256.Signing.PrivateKey(pemRepresentation: keyPEM)))
    }

    /// Issues a server certificate for the given DNS names and IP addresses.
    public func issueServer(commonName: String, dnsNames: [String], ipAddresses: [String], now: Date = Date(), validFor: TimeInterval = 2 * 365 * 86400) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(commonName) }
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for address in ipAddresses {
            guard let bytes = Self.ipBytes(address) else { throw DevCertificateError.badIPAddress(address) }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + validFor,
            issuer: ca.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(ca.privateKey))
        return IssuedCertificate(certificate: certificate, privateKey: key)
    }

    /// Issues a user certificate whose subject carries the requested identity.
    public func issueUser(_ request: UserCertificateRequest) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: request.notBefore, notValidAfter: request.notAfter,
            issuer: ca.certificate.subject, subject: try Self.subject(for: request), signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
            },
            issuerPrivateKey: .init(ca.privateKey))
        return IssuedCertificate(certificate: certificate, privateKey: key)
    }

    /// The subject of a user certificate: CN, O (one RDN holding every role), OU, then one RDN per
    /// identity attribute. Values are PrintableString where every character allows it, else UTF8String.
    static func subject(for request: UserCertificateRequest) throws -> DistinguishedName {
        var rdns: [RelativeDistinguishedName] = [RelativeDistinguishedName(try attribute(IdentityAttribute.commonName, request.user))]
        if !request.roles.isEmpty {
            rdns.append(RelativeDistinguishedName(try request.roles.map { try attribute(IdentityAttribute.organization, $0) }))
        }
        if !request.usage.isEmpty {
            rdns.append(RelativeDistinguishedName(try request.usage.map { try attribute(IdentityAttribute.organizationalUnit, $0) }))
        }
        let route = request.route
        var custom: [(ASN1ObjectIdentifier, String)] = [
            (IdentityAttribute.databaseService, route.serviceName),
            (IdentityAttribute.databaseProtocol, route.protocolName),
            (IdentityAttribute.databaseUser, route.username),
            (IdentityAttribute.databaseName, route.database),
        ]
        custom += request.allowedDatabaseNames.map { (IdentityAttribute.allowedDatabaseNames, $0) }
        custom += request.allowedDatabaseUsers.map { (IdentityAttribute.allowedDatabaseUsers, $0) }
        custom += route.roles.map { (IdentityAttribute.databaseRoles, $0) }
        custom.append((IdentityAttribute.clusterName, request.clusterName))
        for (oid, value) in custom where !value.isEmpty {
            rdns.append(RelativeDistinguishedName(try attribute(oid, value)))
        }
        return DistinguishedName(rdns)
    }

    private static func attribute(_ oid: ASN1ObjectIdentifier, _ value: String) throws -> RelativeDistinguishedName.Attribute {
        if let printable = try? RelativeDistinguishedName.Attribute(type: oid, printableString: value) {
            return printable
        }
        return RelativeDistinguishedName.Attribute(type: oid, utf8String: value)
    }

    static func ipBytes(_ address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

/// Errors of the development certificate tooling.
public enum DevCertificateError: Error, CustomStringConvertible {
    case badIPAddress(String)

    public var description: String {
        switch self {
        case .badIPAddress(let address): "\"\(address)\" is not an IP address"
        }
    }
}
