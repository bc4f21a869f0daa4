import ArgumentParser
import Foundation

/// One database to serve: the files of its certificate, and where to listen.
struct DatabaseEntry: Sendable, Hashable {
    /// The name given by --db or the config file; nil: the certificate's service name.
    var name: String?
    var certificateFile: String
    var keyFile: String
    /// nil: any free port (for a unix socket, PostgreSQL's 5432 or the next free one).
    var port: Int?
    /// Listen on a unix socket in this directory instead of TCP.
    var socketDirectory: String?
    /// Overrides the certificate's protocol.
    var protocolName: String?

    /// The files a `--db` CERT names: a folder holds cert.pem and key.pem; `PREFIX.pem` stands
    /// for itself and `PREFIX-key.pem`; any other text is a prefix, as `certs issue --out` writes.
    static func files(named text: String) -> (certificate: String, key: String) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory), isDirectory.boolValue {
            return ((text as NSString).appendingPathComponent("cert.pem"), (text as NSString).appendingPathComponent("key.pem"))
        }
        let prefix = text.hasSuffix(".pem") ? String(text.dropLast(4)) : text
        return (prefix + ".pem", prefix + "-key.pem")
    }

    /// Parses `NAME=CERT[,port=N][,socket=DIR][,protocol=P]`.
    init(spec: String) throws {
        guard let equals = spec.firstIndex(of: "="), equals != spec.startIndex else {
            throw ValidationError("--db \"\(spec)\": expected NAME=CERT[,port=N][,socket=DIR][,protocol=P]")
        }
        name = String(spec[..<equals])
        var parts = spec[spec.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let certificate = parts.first, !certificate.isEmpty else {
            throw ValidationError("--db \"\(spec)\": no certificate after \"=\"")
        }
        (certificateFile, keyFile) = Self.files(named: certificate)
        parts.removeFirst()
        for part in parts {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[1].isEmpty else {
                throw ValidationError("--db \"\(spec)\": \"\(part)\" is not KEY=VALUE (keys: port, socket, protocol)")
            }
            switch pair[0] {
            case "port":
                guard let number = Int(pair[1]), (0...65535).contains(number) else {
                    throw ValidationError("--db \"\(spec)\": port must be 0...65535")
                }
                port = number
            case "socket": socketDirectory = pair[1]
            case "protocol": protocolName = pair[1]
            default:
                throw ValidationError("--db \"\(spec)\": unknown key \"\(pair[0])\" (keys: port, socket, protocol)")
            }
        }
    }

    init(name: String?, certificateFile: String, keyFile: String, port: Int? = nil, socketDirectory: String? = nil, protocolName: String? = nil) {
        self.name = name
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.port = port
        self.socketDirectory = socketDirectory
        self.protocolName = protocolName
    }
}
