import Foundation
import SwiftASN1
import X509

/// Where a database connection made with this certificate goes.
public struct RouteToDatabase: Sendable, Hashable {
    /// The database service name; empty when the certificate is not a database certificate.
    public var serviceName: String
    /// The database protocol name (`postgres`, `mysql`, ...).
    public var protocolName: String
    /// The database user the connection must log in as, when set.
    public var username: String
    /// The database name the connection must open, when set.
    public var database: String
    /// Database roles requested for the session.
    public var roles: [String]

    public init(serviceName: String = "", protocolName: String = "", username: String = "", database: String = "", roles: [String] = []) {
        self.serviceName = serviceName
        self.protocolName = protocolName
        self.username = username
        self.database = database
        self.roles = roles
    }
}

/// The identity a user certificate carries in its subject: CN = user, O = roles,
/// OU = usage, and the 1.3.9999 attributes, plus the validity window.
public struct CertificateIdentity: Sendable, Hashable {
    public var username: String
    public var groups: [String]
    public var usage: [String]
    public var routeToDatabase: RouteToDatabase
    public var allowedDatabaseNames: [String]
    public var allowedDatabaseUsers: [String]
    public var clusterName: String
    public var notBefore: Date
    public var notAfter: Date
    /// The certificate's serial number in upper-case hex, as `openssl x509 -noout -serial`
    /// prints it, for logs; empty when the identity was not read from a certificate.
    public var serialNumber: String = ""

    public init(
        username: String, groups: [String] = [], usage: [String] = [], routeToDatabase: RouteToDatabase = .init(),
        allowedDatabaseNames: [String] = [], allowedDatabaseUsers: [String] = [], clusterName: String = "",
        notBefore: Date, notAfter: Date
    ) {
        self.username = username
        self.groups = groups
        self.usage = usage
        self.routeToDatabase = routeToDatabase
        self.allowedDatabaseNames = allowedDatabaseNames
        self.allowedDatabaseUsers = allowedDatabaseUsers
        self.clusterName = clusterName
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// Reads the identity from a certificate's subject. Unknown attributes are ignored; an
    /// identity attribute whose value is not a text string is an error.
    public init(certificate: Certificate) throws(IdentityError) {
        var username = ""
        var identity = CertificateIdentity(username: "", notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter)
        for rdn in certificate.subject {
            for attribute in rdn {
                guard Self.knownAttributes.contains(attribute.type) else { continue }
                // swift-certificates decodes a UTF8String with invalid bytes into U+FFFD; such a
                // value is refused rather than compared in its repaired form.
                guard let value = String(attribute.value), !value.unicodeScalars.contains("\u{FFFD}") else {
                    throw IdentityError.malformedAttribute(oid: attribute.type.description)
                }
                switch attribute.type {
                case IdentityAttribute.commonName: username = value
                case IdentityAttribute.organization: identity.groups.append(value)
                case IdentityAttribute.organizationalUnit: identity.usage.append(value)
                case IdentityAttribute.databaseService: identity.routeToDatabase.serviceName = value
                case IdentityAttribute.databaseProtocol: identity.routeToDatabase.protocolName = value
                case IdentityAttribute.databaseUser: identity.routeToDatabase.username = value
                case IdentityAttribute.databaseName: identity.routeToDatabase.database = value
                case IdentityAttribute.allowedDatabaseNames: identity.allowedDatabaseNames.append(value)
                case IdentityAttribute.allowedDatabaseUsers: identity.allowedDatabaseUsers.append(value)
                case IdentityAttribute.databaseRoles: identity.routeToDatabase.roles.append(value)
                case IdentityAttribute.clusterName: identity.clusterName = value
                default: break
                }
            }
        }
        guard !username.isEmpty else { throw IdentityError.missingUsername }
        identity.username = username
        identity.serialNumber = Self.hex(certificate.serialNumber.bytes)
        self = identity
    }

    /// Reads the identity from a PEM or DER certificate.
    public init(pemEncoded pem: String) throws(IdentityError) {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: pem)
        } catch {
            throw IdentityError.notACertificate(String(describing: error))
        }
        try self.init(certificate: certificate)
    }

    /// Two upper-case hex digits per byte, leading zero bytes dropped (openssl's form).
    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789ABCDEF")
        var text = ""
        for byte in bytes.drop(while: { $0 == 0 }) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text.isEmpty ? "00" : text
    }

    private static let knownAttributes: Set<ASN1ObjectIdentifier> = [
        IdentityAttribute.commonName, IdentityAttribute.organization, IdentityAttribute.organizationalUnit,
        IdentityAttribute.databaseService, IdentityAttribute.databaseProtocol, IdentityAttribute.databaseUser,
        IdentityAttribute.databaseName, IdentityAttribute.allowedDatabaseNames, IdentityAttribute.allowedDatabaseUsers,
        IdentityAttribute.databaseRoles, IdentityAttribute.clusterName,
    ]

    /// True when the certificate routes to a database (it names a database service).
    public var isDatabaseIdentity: Bool { !routeToDatabase.serviceName.isEmpty }

    /// The database protocol named by the certificate.
    public func databaseProtocol() throws(IdentityError) -> DatabaseProtocol {
        guard !routeToDatabase.protocolName.isEmpty else { throw .missingDatabaseProtocol }
        do {
            return try DatabaseProtocol(name: routeToDatabase.protocolName)
        } catch {
            throw .unsupportedProtocol(error)
        }
    }

    /// Whether usage restrictions (OU) admit database access: no usage at all, or `usage:db`.
    public var allowsDatabaseUsage: Bool {
        usage.isEmpty || usage.contains(IdentityAttribute.databaseUsage)
    }

    /// Checks that `date` lies within the validity window.
    public func checkValidity(at date: Date) throws(IdentityError) {
        if date < notBefore { throw .notYetValid(notBefore: notBefore) }
        if date > notAfter { throw .expired(notAfter: notAfter) }
    }
}

/// Why an identity could not be read or used.
public enum IdentityError: Error, Hashable, CustomStringConvertible {
    case notACertificate(String)
    case malformedAttribute(oid: String)
    case missingUsername
    case missingDatabaseProtocol
    case unsupportedProtocol(ProtocolNameError)
    case expired(notAfter: Date)
    case notYetValid(notBefore: Date)

    public var description: String {
        switch self {
        case .notACertificate(let reason): "not a PEM certificate: \(reason)"
        case .malformedAttribute(let oid): "certificate subject attribute \(oid) is not a text string"
        case .missingUsername: "certificate subject has no common name (user)"
        case .missingDatabaseProtocol: "certificate names no database protocol (1.3.9999.2.2); issue a database certificate"
        case .unsupportedProtocol(let error): error.description
        case .expired(let notAfter): "certificate expired at \(Timestamp.format(notAfter)); renew it"
        case .notYetValid(let notBefore): "certificate is not valid before \(Timestamp.format(notBefore)); check the clock or reissue it"
        }
    }
}

/// Formats times for messages people read: `2026-11-24T10:00:00Z`.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
