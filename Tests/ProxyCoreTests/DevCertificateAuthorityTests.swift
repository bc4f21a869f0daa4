import Crypto
import Foundation
import ProxyCore
import SwiftASN1
import Testing
import X509

/// User certificates issued in memory by DevCertificateAuthority and read back.
@Suite struct DevCertificateAuthorityTests {
    static let now = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    static func request(user: String = "alice") -> UserCertificateRequest {
        var request = UserCertificateRequest(
            user: user,
            route: RouteToDatabase(serviceName: "pg-main", protocolName: "postgres", username: "alice_db", database: "orders", roles: ["reader"]),
            notBefore: now, validFor: 3600)
        request.roles = ["dev"]
        request.allowedDatabaseNames = ["orders", "analytics"]
        request.allowedDatabaseUsers = ["alice_db", "reporting"]
        request.clusterName = "example.teleport.sh"
        return request
    }

    @Test func userCertificateRoundTrip() throws {
        let ca = try DevCertificateAuthority.make(commonName: "test user CA", now: Self.now)
        let issued = try ca.issueUser(Self.request())
        let identity = try CertificateIdentity(pemEncoded: try issued.certificatePEM)
        #expect(identity.serialNumber.count >= 2 && identity.serialNumber.allSatisfy { $0.isHexDigit && !$0.isLowercase })
        var expected = CertificateIdentity(
            username: "alice", groups: ["dev"], usage: ["usage:db"],
            routeToDatabase: RouteToDatabase(serviceName: "pg-main", protocolName: "postgres", username: "alice_db", database: "orders", roles: ["reader"]),
            allowedDatabaseNames: ["orders", "analytics"], allowedDatabaseUsers: ["alice_db", "reporting"],
            clusterName: "example.teleport.sh",
            notBefore: Self.now, notAfter: Self.now + 3600)
        expected.serialNumber = identity.serialNumber
        #expect(identity == expected)
        #expect(identity.isDatabaseIdentity)
        #expect(try identity.databaseProtocol() == .postgres)
    }

    @Test func validityWindow() throws {
        let ca = try DevCertificateAuthority.make(commonName: "test user CA", now: Self.now)
        let identity = try CertificateIdentity(certificate: try ca.issueUser(Self.request()).certificate)
        #expect(identity.notBefore == Self.now)
        #expect(identity.notAfter == Self.now + 3600)
        #expect(throws: Never.self) { try identity.checkValidity(at: Self.now + 1800) }
        #expect(throws: IdentityError.notYetValid(notBefore: Self.now)) { try identity.checkValidity(at: Self.now - 1) }
        #expect(throws: IdentityError.expired(notAfter: Self.now + 3600)) { try identity.checkValidity(at: Self.now + 3601) }
    }

    @Test func defaultRequestIsTwelveHoursFromAMinuteAgo() {
        let before = Date()
        let request = UserCertificateRequest(user: "alice")
        #expect(abs(request.notBefore.timeIntervalSince(before - 60)) < 5)
        #expect(request.notAfter.timeIntervalSince(request.notBefore) == 12 * 3600)
        #expect(request.roles == ["dev"])
        #expect(request.usage == ["usage:db"])
    }

    @Test(arguments: ["jürgen.müller", "алиса", "用户", "o'brien", "alice@example.com", "a b", "emoji-🐘"])
    func nonASCIIUserNames(user: String) throws {
        let ca = try DevCertificateAuthority.make(commonName: "test user CA", now: Self.now)
        var request = Self.request(user: user)
        request.route.username = user
        request.route.database = user + "-db"
        let identity = try CertificateIdentity(pemEncoded: try ca.issueUser(request).certificatePEM)
        #expect(identity.username == user)
        #expect(identity.routeToDatabase.username == user)
        #expect(identity.routeToDatabase.database == user + "-db")
    }

    /// Values are PrintableString when every character allows it, else UTF8String.
    @Test(arguments: [("alice", true), ("alice_db", false), ("jürgen", false), ("usage:db", true)])
    func stringTypeOfAttributes(value: String, printable: Bool) throws {
        let ca = try DevCertificateAuthority.make(commonName: "test user CA", now: Self.now)
        var request = Self.request()
        request.route.username = value
        let certificate = try ca.issueUser(request).certificate
        let attribute = try #require(certificate.subject.flatMap { $0 }.first { $0.type == IdentityAttribute.databaseUser })
        let expected = printable
            ? try RelativeDistinguishedName.Attribute.Value(printableString: value)
            : RelativeDistinguishedName.Attribute.Value(utf8String: value)
        #expect(attribute.value == expected)
    }

    @Test func emptyFieldsAreLeftOut() throws {
        let ca = try DevCertificateAuthority.make(commonName: "test user CA", now: Self.now)
        var request = UserCertificateRequest(user: "bob", notBefore: Self.now)
        request.roles = []
        request.usage = []
        let certificate = try ca.issueUser(request).certificate
        let types = certificate.subject.flatMap { $0 }.map(\.type)
        #expect(types == [IdentityAttribute.commonName])
        let identity = try CertificateIdentity(certificate: certificate)
        #expect(!identity.isDatabaseIdentity)
        #expect(identity.allowsDatabaseUsage)
    }

    @Test func subjectLayout() throws {
        let ca = try DevCertificateAuthority.make(commonName: "test user CA", now: Self.now)
        var request = Self.request()
        request.roles = ["dev", "admin"]
        let certificate = try ca.issueUser(request).certificate
        let rdns = Array(certificate.subject)
        // CN, then one RDN holding every role, then OU, then one RDN per custom attribute.
        #expect(rdns.count == 1 + 1 + 1 + 4 + 2 + 2 + 1 + 1)
        #expect(rdns[0].map(\.type) == [IdentityAttribute.commonName])
        #expect(rdns[1].map(\.type) == [IdentityAttribute.organization, IdentityAttribute.organization])
        #expect(rdns[2].map(\.type) == [IdentityAttribute.organizationalUnit])
        #expect(rdns.dropFirst(3).allSatisfy { $0.count == 1 })
        #expect(Set(try CertificateIdentity(certificate: certificate).groups) == ["dev", "admin"])
    }

    @Test func userCertificateIsSignedByTheCAAndIsAClientCertificate() throws {
        let ca = try DevCertificateAuthority.make(commonName: "test user CA", now: Self.now)
        let other = try DevCertificateAuthority.make(commonName: "other CA", now: Self.now)
        let user = try ca.issueUser(Self.request()).certificate
        #expect(user.issuer == ca.ca.certificate.subject)
        #expect(ca.ca.certificate.publicKey.isValidSignature(user.signature, for: user))
        #expect(!other.ca.certificate.publicKey.isValidSignature(user.signature, for: user))
        let eku = try #require(try user.extensions.extendedKeyUsage)
        #expect(eku.contains(.clientAuth))
        #expect(!eku.contains(.serverAuth))
        #expect(try user.extensions.basicConstraints == .notCertificateAuthority)
    }

    @Test func caCertificate() throws {
        let ca = try DevCertificateAuthority.make(commonName: "test user CA", now: Self.now)
        let certificate = ca.ca.certificate
        #expect(certificate.subject == certificate.issuer)
        #expect(certificate.notValidBefore == Self.now - 3600)
        #expect(certificate.notValidAfter == Self.now + 10 * 365 * 86400)
        #expect(try certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(ca.ca.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try ca.ca.certificatePEM.hasSuffix("-----END CERTIFICATE-----\n"))
    }

    @Test func serverCertificateNames() throws {
        let ca = try DevCertificateAuthority.make(commonName: "host CA", now: Self.now)
        let server = try ca.issueServer(commonName: "localhost", dnsNames: ["localhost", "proxy.localhost"], ipAddresses: ["127.0.0.1", "::1"], now: Self.now)
        let names = try #require(try server.certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("proxy.localhost")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))))
        let eku = try #require(try server.certificate.extensions.extendedKeyUsage)
        #expect(eku.contains(.serverAuth))
    }

    @Test(arguments: ["localhost", "300.1.1.1", "1.2.3", "::g", ""])
    func badIPAddressIsAnError(address: String) throws {
        let ca = try DevCertificateAuthority.make(commonName: "host CA", now: Self.now)
        #expect {
            try ca.issueServer(commonName: "x", dnsNames: [], ipAddresses: [address])
        } throws: { error in
            guard let error = error as? DevCertificateError, case .badIPAddress(let bad) = error else { return false }
            return bad == address && error.description == "\"\(address)\" is not an IP address"
        }
    }

    /// A known attribute whose value is an INTEGER is an error, not a crash.
    @Test func integerAttributeIsAnError() throws {
        let key = P256.Signing.PrivateKey()
        let integer = try ASN1Any(derEncoded: [0x02, 0x01, 0x05])  // INTEGER 5
        let name = DistinguishedName([
            RelativeDistinguishedName(RelativeDistinguishedName.Attribute(type: IdentityAttribute.commonName, utf8String: "alice")),
            RelativeDistinguishedName(RelativeDistinguishedName.Attribute(type: IdentityAttribute.databaseProtocol, value: integer)),
        ])
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Self.now, notValidAfter: Self.now + 60, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(), issuerPrivateKey: .init(key))
        #expect(throws: IdentityError.malformedAttribute(oid: "1.3.9999.2.2")) { try CertificateIdentity(certificate: certificate) }
    }
}
