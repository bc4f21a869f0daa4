import Crypto
import Foundation
import NIOSSL
import ProxyCore
import ServerALPN
import Testing
import X509

/// Bad client certificates. Straight to the router with `teleport-postgres`: a certificate the
/// TLS layer refuses ends in a TLS alert; one it accepts but the router does not is refused with a
/// FATAL 28000 ErrorResponse answering the StartupMessage. Through the local proxy, which checks
/// its own certificate first: a FATAL ErrorResponse from the local proxy. After each case psql
/// runs a query through a local proxy of the same router with a good certificate.
@Suite("Bad input: client certificates", .serialized)
struct CertificateBadInputTests {
    enum CertificateKind: String, Sendable, CaseIterable {
        case none = "no certificate"
        case otherCA = "certificate of another CA"
        case expired = "expired certificate"
        case notYetValid = "certificate not yet valid"
        case noService = "no service name (no RouteToDatabase)"
        case protocolAgainstALPN = "protocol mysql against ALPN teleport-postgres"
        case unknownService = "service name the router does not know"
        case usage = "usage usage:apps, not usage:db"
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let certificate: CertificateKind
        /// The TLS alert text the client reports (BoringSSL's name); nil when TLS completes.
        let alert: String?
        /// The ErrorResponse message after TLS; nil when TLS fails (or the answer is not PostgreSQL's).
        let message: String?
        var testDescription: String { certificate.rawValue }
    }

    static let routerCases: [Case] = [
        Case(certificate: .none, alert: "CERTIFICATE_REQUIRED", message: nil),
        Case(certificate: .otherCA, alert: "TLSV1_ALERT_UNKNOWN_CA", message: nil),
        Case(certificate: .expired, alert: "SSLV3_ALERT_CERTIFICATE_EXPIRED", message: nil),
        Case(certificate: .notYetValid, alert: "SSLV3_ALERT_CERTIFICATE_EXPIRED", message: nil),
        Case(certificate: .noService, alert: nil,
             message: "dbproxy router: certificate of \"trustuser\" names no database service (1.3.9999.2.1); issue a database certificate"),
        // The certificate decides where a connection goes, whatever the ALPN (DESIGN.md): the
        // MySQL greeting, then an ERR for the StartupMessage read as a MySQL packet.
        Case(certificate: .protocolAgainstALPN, alert: nil, message: nil),
        Case(certificate: .unknownService, alert: nil, message: "dbproxy router: database service \"nope\" is not configured on this router"),
        Case(certificate: .usage, alert: nil, message: "dbproxy router: certificate usage [\"usage:apps\"] does not include usage:db"),
    ]

    /// The TLS material for `kind` (nil: no certificate).
    static func material(_ kind: CertificateKind, world: BadInputWorld) throws -> TLSMaterial? {
        let pki = world.chain.pki
        switch kind {
        case .none: return nil
        case .otherCA: return try pki.user("trustuser", service: "pg", protocolName: "postgres", issuer: DevCertificateAuthority.make(commonName: "Other CA"))
        case .expired: return try pki.user("trustuser", service: "pg", protocolName: "postgres", notBefore: Date() - 7200, validFor: 3600)
        case .notYetValid: return try pki.user("trustuser", service: "pg", protocolName: "postgres", notBefore: Date() + 3600)
        case .noService: return try pki.user("trustuser", service: "", protocolName: "")
        case .protocolAgainstALPN: return try pki.user("alice", service: "my", protocolName: "mysql")
        case .unknownService: return try pki.user("trustuser", service: "nope", protocolName: "postgres")
        case .usage:
            var request = UserCertificateRequest(
                user: "trustuser", route: RouteToDatabase(serviceName: "pg", protocolName: "postgres", username: "trustuser"))
            request.usage = ["usage:apps"]
            return try world.certificate(request)
        }
    }

    @Test("straight to the router: a TLS alert or a FATAL 28000 ErrorResponse, then psql works", arguments: routerCases)
    func atRouter(_ testCase: Case) async throws {
        let world = try await BadInputWorld.start(requiring: [.postgres, .mysql])
        let raw = try await world.routerTLS(.postgres, material: .some(try Self.material(testCase.certificate, world: world)))
        // Under TLS 1.3 the client's handshake may complete before the server's verdict: read.
        await raw.send(PGBytes.startup([("user", "trustuser"), ("database", "appdb")]))
        let answer = try await raw.readUntilClosed()
        if testCase.certificate == .protocolAgainstALPN {
            let frames = MySQLBytes.frames(answer)
            #expect(frames.count == 2, "answer \(answer.prefix(80))")
            #expect(frames.first?.sequence == 0 && frames.first?.payload.first == 10, "a HandshakeV10 greeting first")
            let error = try #require(frames.last.flatMap { MySQLBytes.error($0.payload) })
            #expect(error.code == 1043 && error.state == "08S01")
            #expect(error.message.hasPrefix("dbproxy router: bad handshake response: "), "\(error.message)")
        } else if let alert = testCase.alert {
            #expect(answer.isEmpty, "answer \(PGBytes.types(answer))")
            #expect(raw.error?.contains(alert) == true, "error \(raw.error ?? "none")")
        } else {
            #expect(raw.handshakeCompleted)
            #expect(PGBytes.types(answer) == "E", "answer \(PGBytes.types(answer))")
            let fields = try #require(PGBytes.errorFields(answer))
            #expect(fields["S"] == "FATAL" && fields["C"] == "28000")
            #expect(fields["M"] == testCase.message, "\(fields["M"] ?? "")")
        }
        try await world.expectRouterServes(.postgres)
        await world.stop()
    }

    static let localCases: [(CertificateKind, code: String, message: String)] = [
        (.expired, "28000", "dbproxy: certificate expired at "),
        (.notYetValid, "28000", "dbproxy: certificate is not valid before "),
        (.otherCA, "08006", "dbproxy: the router refused the TLS connection: "),
    ]

    @Test("through the local proxy: its own FATAL ErrorResponse, then psql works (good certificate, same router)",
          arguments: [CertificateKind.expired, .notYetValid, .otherCA])
    func atLocalProxy(_ kind: CertificateKind) async throws {
        let world = try await BadInputWorld.start()
        let expected = try #require(Self.localCases.first(where: { $0.0 == kind }))
        let (proxy, port) = try await world.localProxy(.postgres, material: try Self.material(kind, world: world))
        let raw = try await RawConnection.plain(port: port)
        await raw.send(PGBytes.startup([("user", "trustuser"), ("database", "appdb")]))
        let fields = try #require(PGBytes.errorFields(try await raw.readUntilClosed()))
        #expect(fields["S"] == "FATAL" && fields["C"] == expected.code)
        #expect(fields["M"]?.hasPrefix(expected.message) == true, "\(fields["M"] ?? "")")
        await proxy.stop()
        try await world.expectRouterServes(.postgres)
        await world.stop()
    }

    @Test("a UTF8String service name with invalid UTF-8: no TLS library here loads it, the identity parser refuses it; psql works")
    func invalidUTF8() async throws {
        let world = try await BadInputWorld.start()
        let (der, keyPEM) = try Self.invalidUTF8Certificate(world.chain.pki)
        // swift-nio-ssl (BoringSSL) and OpenSSL 3 refuse to load it: no client here can present it.
        #expect(throws: NIOSSLError.failedToLoadCertificate) { try NIOSSLCertificate(bytes: der, format: .der) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-badcert-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pem = "-----BEGIN CERTIFICATE-----\n" + Data(der).base64EncodedString(options: .lineLength64Characters)
            + "\n-----END CERTIFICATE-----\n"
        try DevCertificateFiles.write(pem, to: directory + "/user.pem", secret: false)
        try DevCertificateFiles.write(keyPEM, to: directory + "/user-key.pem", secret: true)
        let script = """
            import ssl, sys
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            try:
                context.load_cert_chain(sys.argv[1], sys.argv[2])
                print("loaded")
            except ssl.SSLError as error:
                print("refused: %s" % error.reason)
            """
        let openSSL = try await Command.run(["python3", "-c", script, directory + "/user.pem", directory + "/user-key.pem"])
        #expect(openSSL.output.hasPrefix("refused: "), "\(openSSL.output)")
        // The identity parser (the router's, after TLS) does not take the repaired string.
        let parsed = try X509.Certificate(derEncoded: der)
        #expect(String(parsed.subject.description).contains("\u{FFFD}"), "swift-certificates repairs the value: \(parsed.subject)")
        #expect(throws: IdentityError.malformedAttribute(oid: "1.3.9999.2.1")) { try CertificateIdentity(certificate: parsed) }
        try await world.expectRouterServes(.postgres)
        await world.stop()
    }

    /// The DER of a database certificate for `pg` whose service name is a UTF8String holding
    /// `pg-placeholder-` and the byte 0xFF (not UTF-8), signed by the user CA, and its key.
    /// swift-certificates would repair the string when serialising, so the to-be-signed bytes
    /// are patched and signed here.
    static func invalidUTF8Certificate(_ pki: TestPKI) throws -> (der: [UInt8], keyPEM: String) {
        let placeholder = "pg-placeholder-x"
        var request = UserCertificateRequest(
            user: "trustuser", route: RouteToDatabase(serviceName: placeholder, protocolName: "postgres", username: "trustuser"))
        request.roles = ["dev"]
        let issued = try pki.userCA.issueUser(request)
        var tbs = Array(issued.certificate.tbsCertificateBytes)
        let pattern: [UInt8] = [0x13, UInt8(placeholder.utf8.count)] + Array(placeholder.utf8)  // a PrintableString
        let start = try #require((0...(tbs.count - pattern.count)).first(where: { Array(tbs[$0..<($0 + pattern.count)]) == pattern }))
        tbs[start] = 0x0C  // UTF8String
        tbs[start + pattern.count - 1] = 0xFF
        let signature = try pki.userCA.ca.privateKey.signature(for: tbs).derRepresentation
        let algorithm: [UInt8] = [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
        let bitString = der(0x03, [0] + Array(signature))
        return (der(0x30, tbs + algorithm + bitString), issued.privateKeyPEM)
    }

    private static func der(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        let count = content.count
        let length: [UInt8] = count < 0x80 ? [UInt8(count)] : count < 0x100 ? [0x81, UInt8(count)] : [0x82, UInt8(count >> 8), UInt8(count & 0xFF)]
        return [tag] + length + content
    }
}
