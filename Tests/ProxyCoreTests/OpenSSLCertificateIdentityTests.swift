import Foundation
import ProxyCore
import SwiftASN1
import Testing
import X509

/// Identities read from certificates made by the openssl CLI (Tests/Fixtures/certs).
@Suite struct OpenSSLCertificateIdentityTests {
    // What `openssl x509 -noout -dates` prints for the fixtures.
    static let validNotBefore = "Jan  1 00:00:00 2025 GMT"
    static let validNotAfter = "Dec 31 23:59:59 2049 GMT"
    static let expiredNotBefore = "Jan  1 00:00:00 2020 GMT"
    static let expiredNotAfter = "Feb  1 00:00:00 2020 GMT"

    static func date(_ openssl: String) throws -> Date {
        try #require(Fixtures.opensslDate(openssl))
    }

    static func fullIdentity(notBefore: String, notAfter: String, serial: String) throws -> CertificateIdentity {
        var identity = CertificateIdentity(
            username: "alice", groups: ["dev", "admin"], usage: ["usage:db"],
            routeToDatabase: RouteToDatabase(
                serviceName: "pg-main", protocolName: "postgres", username: "alice", database: "orders",
                roles: ["reader", "writer"]),
            allowedDatabaseNames: ["orders", "analytics"], allowedDatabaseUsers: ["alice", "reporting"],
            clusterName: "example.teleport.sh",
            notBefore: try date(notBefore), notAfter: try date(notAfter))
        identity.serialNumber = serial
        return identity
    }

    @Test func opensslDatesMatchKnownInstants() throws {
        #expect(try Self.date(Self.validNotBefore) == Date(timeIntervalSince1970: 1_735_689_600))
        #expect(try Self.date(Self.validNotAfter) == Date(timeIntervalSince1970: 2_524_607_999))
        #expect(try Self.date(Self.expiredNotAfter) == Date(timeIntervalSince1970: 1_580_515_200))
    }

    /// Serials as `openssl x509 -noout -serial` prints them (make-certs.sh sets them).
    @Test(arguments: [("user-utf8.pem", "1001"), ("user-printable.pem", "1002")])
    func fullIdentity(file: String, serial: String) throws {
        let identity = try CertificateIdentity(pemEncoded: try Fixtures.pem(file))
        #expect(identity == (try Self.fullIdentity(notBefore: Self.validNotBefore, notAfter: Self.validNotAfter, serial: serial)))
        #expect(identity.username == "alice")
        #expect(identity.groups == ["dev", "admin"])
        #expect(identity.usage == ["usage:db"])
        #expect(identity.routeToDatabase.serviceName == "pg-main")
        #expect(identity.routeToDatabase.protocolName == "postgres")
        #expect(identity.routeToDatabase.username == "alice")
        #expect(identity.routeToDatabase.database == "orders")
        #expect(identity.routeToDatabase.roles == ["reader", "writer"])
        #expect(identity.isDatabaseIdentity)
        #expect(identity.allowsDatabaseUsage)
        #expect(try identity.databaseProtocol() == .postgres)
        #expect(throws: Never.self) { try identity.checkValidity(at: Date(timeIntervalSince1970: 1_800_000_000)) }
    }

    /// The two fixtures really differ in string type, so both branches of the parser are used.
    @Test(arguments: [("user-utf8.pem", false), ("user-printable.pem", true)])
    func fixtureStringTypes(file: String, printable: Bool) throws {
        let certificate = try Certificate(pemEncoded: try Fixtures.pem(file))
        let service = try #require(certificate.subject.flatMap { $0 }.first { $0.type == IdentityAttribute.databaseService })
        let expected = printable
            ? try RelativeDistinguishedName.Attribute.Value(printableString: "pg-main")
            : RelativeDistinguishedName.Attribute.Value(utf8String: "pg-main")
        #expect(service.value == expected)
    }

    @Test func multiValuedOrganization() throws {
        let identity = try CertificateIdentity(pemEncoded: try Fixtures.pem("user-multivalue.pem"))
        // A multi-valued RDN is a DER SET OF: its order is the encoding's, not the subject line's.
        #expect(Set(identity.groups) == ["dev", "admin"])
        #expect(identity.groups.count == 2)
        #expect(identity.routeToDatabase == RouteToDatabase(serviceName: "pg-main", protocolName: "postgres", username: "alice", database: "orders"))
        #expect(identity.clusterName == "")
        #expect(identity.allowedDatabaseNames.isEmpty)
    }

    @Test func nonASCIIValues() throws {
        let identity = try CertificateIdentity(pemEncoded: try Fixtures.pem("user-nonascii.pem"))
        #expect(identity.username == "jürgen.müller")
        #expect(identity.routeToDatabase.username == "jürgen")
        #expect(identity.routeToDatabase.database == "bestellungen-ü€")
    }

    @Test func unknownAttributesAreIgnored() throws {
        // One of the unknown attributes is a BMPString: unknown attributes are not even decoded.
        let identity = try CertificateIdentity(pemEncoded: try Fixtures.pem("user-unknown-oid.pem"))
        #expect(identity.username == "alice")
        #expect(identity.groups == ["dev"])
        #expect(identity.routeToDatabase == RouteToDatabase(serviceName: "pg-main", protocolName: "postgres", username: "alice", database: "orders"))
        #expect(identity.allowedDatabaseNames.isEmpty)
        #expect(identity.allowedDatabaseUsers.isEmpty)
        #expect(identity.clusterName == "")
    }

    @Test func noDatabaseRoute() throws {
        let identity = try CertificateIdentity(pemEncoded: try Fixtures.pem("user-no-route.pem"))
        #expect(identity.username == "bob")
        #expect(identity.groups == ["dev"])
        #expect(identity.routeToDatabase == RouteToDatabase())
        #expect(!identity.isDatabaseIdentity)
        #expect(throws: IdentityError.missingDatabaseProtocol) { try identity.databaseProtocol() }
    }

    @Test func expiredCertificate() throws {
        let identity = try CertificateIdentity(pemEncoded: try Fixtures.pem("user-expired.pem"))
        let notAfter = try Self.date(Self.expiredNotAfter)
        #expect(identity == (try Self.fullIdentity(notBefore: Self.expiredNotBefore, notAfter: Self.expiredNotAfter, serial: "1007")))
        #expect(throws: IdentityError.expired(notAfter: notAfter)) { try identity.checkValidity(at: Date()) }
        #expect(throws: IdentityError.expired(notAfter: notAfter)) { try identity.checkValidity(at: notAfter + 1) }
        #expect(throws: Never.self) { try identity.checkValidity(at: notAfter) }
        let notBefore = try Self.date(Self.expiredNotBefore)
        #expect(throws: IdentityError.notYetValid(notBefore: notBefore)) { try identity.checkValidity(at: notBefore - 1) }
        #expect(throws: Never.self) { try identity.checkValidity(at: notBefore) }
    }

    @Test func expiryMessageNamesTheInstant() throws {
        let error = IdentityError.expired(notAfter: try Self.date(Self.expiredNotAfter))
        #expect(error.description.contains("2020-02-01T00:00:00Z"))
        #expect(error.description.contains("renew"))
    }

    @Test(arguments: [("user-malformed-bmp.pem", "1.3.9999.2.1"), ("user-malformed-t61.pem", "1.3.9999.2.4")])
    func nonTextAttributeIsAnError(file: String, oid: String) throws {
        let pem = try Fixtures.pem(file)
        #expect(throws: IdentityError.malformedAttribute(oid: oid)) { try CertificateIdentity(pemEncoded: pem) }
        #expect(IdentityError.malformedAttribute(oid: oid).description.contains(oid))
    }

    @Test func missingCommonNameIsAnError() throws {
        let pem = try Fixtures.pem("user-no-cn.pem")
        #expect(throws: IdentityError.missingUsername) { try CertificateIdentity(pemEncoded: pem) }
    }

    @Test func notACertificate() throws {
        let key = try Fixtures.pem("user-key.pem")
        for text in ["", "hello", key] {
            #expect {
                try CertificateIdentity(pemEncoded: text)
            } throws: { error in
                guard case .notACertificate = error as? IdentityError else { return false }
                return true
            }
        }
    }

    @Test func fixtureCAIssuedTheUserCertificates() throws {
        let ca = try Certificate(pemEncoded: try Fixtures.pem("ca.pem"))
        let user = try Certificate(pemEncoded: try Fixtures.pem("user-utf8.pem"))
        #expect(user.issuer == ca.subject)
        #expect(ca.publicKey.isValidSignature(user.signature, for: user))
    }
}
