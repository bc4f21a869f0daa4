import Foundation
import NIOSSL
import ProxyCore
import Testing

/// Loading PEM files: clear errors naming the file, and the identity of the leaf.
@Suite struct TLSMaterialTests {
    static func temporaryFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("proxycore-\(UUID().uuidString).pem").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func loadsFixtureCertificateKeyAndCA() throws {
        let material = try TLSMaterial.load(
            certificateFile: Fixtures.path("user-utf8.pem"), keyFile: Fixtures.path("user-key.pem"), caFile: Fixtures.path("ca.pem"))
        #expect(material.certificateChain.count == 1)
        #expect(material.trustRoots.count == 1)
        let identity = try material.identity()
        #expect(identity.username == "alice")
        #expect(identity.routeToDatabase.serviceName == "pg-main")
        #expect(identity.clusterName == "example.teleport.sh")
    }

    @Test func caFileIsOptional() throws {
        let material = try TLSMaterial.load(
            certificateFile: Fixtures.path("user-no-route.pem"), keyFile: Fixtures.path("user-key.pem"), caFile: nil)
        #expect(material.trustRoots.isEmpty)
        #expect(try material.identity().username == "bob")
    }

    @Test func leafIsTheFirstCertificateOfTheChain() throws {
        let chain = try Self.temporaryFile(try Fixtures.pem("user-printable.pem") + Fixtures.pem("ca.pem"))
        defer { try? FileManager.default.removeItem(atPath: chain) }
        let material = try TLSMaterial.load(certificateFile: chain, keyFile: Fixtures.path("user-key.pem"), caFile: nil)
        #expect(material.certificateChain.count == 2)
        #expect(try material.identity().username == "alice")
    }

    @Test func missingCertificateFile() {
        let path = "/nonexistent/dir/cert.pem"
        #expect(throws: TLSMaterialError.missingFile(path)) {
            try TLSMaterial.load(certificateFile: path, keyFile: Fixtures.path("user-key.pem"), caFile: nil)
        }
        #expect(TLSMaterialError.missingFile(path).description == "/nonexistent/dir/cert.pem: no such file")
    }

    @Test func missingKeyFile() {
        let path = "/nonexistent/key.pem"
        #expect(throws: TLSMaterialError.missingFile(path)) {
            try TLSMaterial.load(certificateFile: Fixtures.path("user-utf8.pem"), keyFile: path, caFile: nil)
        }
    }

    @Test func missingCAFile() {
        let path = "/nonexistent/ca.pem"
        #expect(throws: TLSMaterialError.missingFile(path)) {
            try TLSMaterial.load(certificateFile: Fixtures.path("user-utf8.pem"), keyFile: Fixtures.path("user-key.pem"), caFile: path)
        }
    }

    @Test func keyFileGivenAsCertificate() {
        let path = Fixtures.path("user-key.pem")
        #expect {
            try TLSMaterial.loadCertificates(file: path)
        } throws: { error in
            switch error as? TLSMaterialError {
            case .noCertificate(let file), .unreadable(let file, _): file == path && "\(error)".hasPrefix(path + ": ")
            default: false
            }
        }
    }

    @Test func certificateGivenAsKey() {
        let path = Fixtures.path("user-utf8.pem")
        #expect {
            try TLSMaterial.loadKey(file: path)
        } throws: { error in
            guard case .unreadable(let file, let reason) = error as? TLSMaterialError else { return false }
            return file == path && reason.hasPrefix("not a PEM private key")
        }
    }

    @Test func garbageCertificateFile() throws {
        let path = try Self.temporaryFile("-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try TLSMaterial.loadCertificates(file: path)
        } throws: { error in
            guard case .unreadable(let file, let reason) = error as? TLSMaterialError else { return false }
            return file == path && reason.hasPrefix("not a PEM certificate file")
        }
    }

    @Test func emptyChainInMemory() throws {
        let key = try TLSMaterial.loadKey(file: Fixtures.path("user-key.pem"))
        #expect(throws: TLSMaterialError.noCertificate(file: "(memory)")) {
            try TLSMaterial(certificateChain: [], privateKey: key, trustRoots: [])
        }
        #expect(TLSMaterialError.noCertificate(file: "x.pem").description == "x.pem: contains no certificate")
    }

    @Test func expiredLeafIdentityReportsExpiry() throws {
        let material = try TLSMaterial.load(
            certificateFile: Fixtures.path("user-expired.pem"), keyFile: Fixtures.path("user-key.pem"), caFile: nil)
        let identity = try material.identity()
        #expect(throws: IdentityError.expired(notAfter: identity.notAfter)) { try identity.checkValidity(at: Date()) }
    }

    @Test func malformedLeafIdentityIsAnError() throws {
        let material = try TLSMaterial.load(
            certificateFile: Fixtures.path("user-malformed-bmp.pem"), keyFile: Fixtures.path("user-key.pem"), caFile: nil)
        #expect(throws: IdentityError.malformedAttribute(oid: "1.3.9999.2.1")) { try material.identity() }
    }
}
