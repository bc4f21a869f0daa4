import Foundation

/// The files of a development certificate directory made by `dbproxy certs init`.
public struct DevCertificateFiles: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public var userCA: String { path("user-ca.pem") }
    public var userCAKey: String { path("user-ca-key.pem") }
    public var hostCA: String { path("host-ca.pem") }
    public var hostCAKey: String { path("host-ca-key.pem") }
    public var serverCertificate: String { path("server.pem") }
    public var serverKey: String { path("server-key.pem") }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// Creates the user CA, the host CA and a server certificate for `dnsNames` and `ipAddresses`.
    /// Existing files are left alone unless `overwrite` is set.
    @discardableResult
    public static func initialize(
        directory: String, dnsNames: [String] = ["localhost", "proxy.localhost"],
        ipAddresses: [String] = ["127.0.0.1", "::1"], overwrite: Bool = false
    ) throws -> DevCertificateFiles {
        let files = DevCertificateFiles(directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if !overwrite, FileManager.default.fileExists(atPath: files.userCA) {
            throw DevCertificateFilesError.alreadyExists(files.userCA)
        }
        let userCA = try DevCertificateAuthority.make(commonName: "LocalDBProxy user CA")
        let hostCA = try DevCertificateAuthority.make(commonName: "LocalDBProxy host CA")
        let server = try hostCA.issueServer(commonName: dnsNames.first ?? "localhost", dnsNames: dnsNames, ipAddresses: ipAddresses)
        try write(try userCA.ca.certificatePEM, to: files.userCA, secret: false)
        try write(userCA.ca.privateKeyPEM, to: files.userCAKey, secret: true)
        try write(try hostCA.ca.certificatePEM, to: files.hostCA, secret: false)
        try write(hostCA.ca.privateKeyPEM, to: files.hostCAKey, secret: true)
        try write(try server.certificatePEM + (try hostCA.ca.certificatePEM), to: files.serverCertificate, secret: false)
        try write(server.privateKeyPEM, to: files.serverKey, secret: true)
        return files
    }

    /// Issues a user certificate signed by the directory's user CA; writes PREFIX.pem and
    /// PREFIX-key.pem (0600).
    @discardableResult
    public func issueUser(_ request: UserCertificateRequest, outputPrefix: String) throws -> (certificate: String, key: String) {
        let ca = try DevCertificateAuthority.load(certificateFile: userCA, keyFile: userCAKey)
        let issued = try ca.issueUser(request)
        let certificatePath = outputPrefix + ".pem"
        let keyPath = outputPrefix + "-key.pem"
        try Self.write(try issued.certificatePEM, to: certificatePath, secret: false)
        try Self.write(issued.privateKeyPEM, to: keyPath, secret: true)
        return (certificatePath, keyPath)
    }

    /// Writes a file; secrets are created with mode 0600 before any byte is written.
    public static func write(_ contents: String, to path: String, secret: Bool) throws {
        let mode: Int = secret ? 0o600 : 0o644
        let manager = FileManager.default
        if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
        guard manager.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: mode]) else {
            throw DevCertificateFilesError.cannotWrite(path)
        }
        try manager.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(contents.utf8))
    }
}

/// Errors writing development certificate files.
public enum DevCertificateFilesError: Error, CustomStringConvertible {
    case alreadyExists(String)
    case cannotWrite(String)

    public var description: String {
        switch self {
        case .alreadyExists(let path): "\(path) already exists (pass --force to replace the certificate authority)"
        case .cannotWrite(let path): "cannot create \(path)"
        }
    }
}
