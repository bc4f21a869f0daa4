#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Refuses a private key file that others can read, as ssh does: a key readable by group or
/// others is as good as shared.
public enum KeyFilePermissions {
    /// Throws when `path` grants any permission to group or others.
    public static func check(_ path: String) throws(KeyFilePermissionError) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }  // Reading the file reports a missing one.
        let mode = UInt32(info.st_mode) & 0o777
        if mode & 0o077 != 0 {
            throw KeyFilePermissionError(path: path, mode: mode)
        }
    }
}

/// A private key file readable or writable by group or others.
public struct KeyFilePermissionError: Error, Hashable, CustomStringConvertible {
    public var path: String
    public var mode: UInt32

    public var description: String {
        "private key \(path) is accessible by others (mode \(String(mode, radix: 8))); run: chmod 600 \(path)"
    }
}
