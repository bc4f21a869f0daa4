import Foundation

/// Where `--local-tls` keeps its material unless told otherwise.
enum LocalTLSDefaults {
    static var directory: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? FileManager.default.currentDirectoryPath
        return (home as NSString).appendingPathComponent(".dbproxy/local-tls")
    }
}
