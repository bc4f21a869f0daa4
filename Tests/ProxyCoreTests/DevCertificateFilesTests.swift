import Foundation
import ProxyCore
import Testing
import X509

/// `dbproxy certs init` files: CAs, server certificate, user certificates, key file modes.
@Suite struct DevCertificateFilesTests {
    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("proxycore-certs-\(UUID().uuidString)").path
    }

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    @Test func initializeWritesEveryFileWithTheRightMode() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try DevCertificateFiles.initialize(directory: directory)
        for secret in [files.userCAKey, files.hostCAKey, files.serverKey] {
            #expect(try Self.mode(secret) == 0o600, "\(secret)")
        }
        for (index, path) in [files.userCA, files.hostCA, files.serverCertificate].enumerated() {
            #expect(try Self.mode(path) == 0o644, "\(index)")
        }
        // server.pem is the server certificate followed by the host CA, and it loads as TLS material.
        let material = try TLSMaterial.load(certificateFile: files.serverCertificate, keyFile: files.serverKey, caFile: files.userCA)
        #expect(material.certificateChain.count == 2)
        let hostCA = try Certificate(pemEncoded: try String(contentsOfFile: files.hostCA, encoding: .utf8))
        #expect(material.leaf.issuer == hostCA.subject)
        #expect(hostCA.publicKey.isValidSignature(material.leaf.signature, for: material.leaf))
    }

    @Test func initializeRefusesToReplaceTheCA() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try DevCertificateFiles.initialize(directory: directory)
        let original = try String(contentsOfFile: files.userCA, encoding: .utf8)
        #expect {
            try DevCertificateFiles.initialize(directory: directory)
        } throws: { error in
            guard let error = error as? DevCertificateFilesError, case .alreadyExists(let path) = error else { return false }
            return path == files.userCA && error.description.contains("--force")
        }
        #expect(try String(contentsOfFile: files.userCA, encoding: .utf8) == original)
        try DevCertificateFiles.initialize(directory: directory, overwrite: true)
        #expect(try String(contentsOfFile: files.userCA, encoding: .utf8) != original)
    }

    @Test func issuedUserCertificateCarriesTheIdentity() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try DevCertificateFiles.initialize(directory: directory)
        let request = UserCertificateRequest(user: "alice", route: RouteToDatabase(serviceName: "pg", protocolName: "postgres", username: "alice"))
        let prefix = (directory as NSString).appendingPathComponent("alice")
        let written = try files.issueUser(request, outputPrefix: prefix)
        #expect(written.certificate == prefix + ".pem")
        #expect(written.key == prefix + "-key.pem")
        #expect(try Self.mode(written.key) == 0o600)
        let material = try TLSMaterial.load(certificateFile: written.certificate, keyFile: written.key, caFile: files.userCA)
        let identity = try material.identity()
        #expect(identity.username == "alice")
        #expect(identity.routeToDatabase == RouteToDatabase(serviceName: "pg", protocolName: "postgres", username: "alice"))
        let userCA = try Certificate(pemEncoded: try String(contentsOfFile: files.userCA, encoding: .utf8))
        #expect(userCA.publicKey.isValidSignature(material.leaf.signature, for: material.leaf))
    }

    @Test func writeReplacesAnExistingFileAndTightensItsMode() throws {
        let directory = Self.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = (directory as NSString).appendingPathComponent("key.pem")
        try DevCertificateFiles.write("old and longer", to: path, secret: false)
        #expect(try Self.mode(path) == 0o644)
        try DevCertificateFiles.write("new", to: path, secret: true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        #expect(try Self.mode(path) == 0o600)
    }
}
