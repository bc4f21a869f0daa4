#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file of a listening unix domain socket.
enum UnixSocketFile {
    /// Removes a socket left behind by an earlier run; anything else at `path` is an error, so
    /// a mistyped path never deletes a user's file.
    /// A socket someone still listens on (another proxy, say) is left alone: that is an error too.
    static func removeStale(at path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw UnixSocketError.notASocket(path) }
        if isListening(path) { throw UnixSocketError.inUse(path) }
        guard unlink(path) == 0 else { throw UnixSocketError.cannotRemove(path, errno) }
    }

    /// The inode of the socket file at `path`, to recognise it later.
    static func inode(at path: String) -> UInt64? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    /// Removes the socket at `path` only if it is still the one this process bound (`inode`).
    static func removeOwn(at path: String, inode: UInt64) {
        guard Self.inode(at: path) == inode else { return }
        unlink(path)
    }

    /// Whether a connection to the socket at `path` is accepted.
    private static func isListening(_ path: String) -> Bool {
        #if canImport(Glibc)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }

    static func restrict(_ path: String, mode: UInt16) throws {
        guard chmod(path, mode_t(mode)) == 0 else { throw UnixSocketError.cannotChangeMode(path, errno) }
    }
}

/// Errors preparing a unix socket listener.
public enum UnixSocketError: Error, CustomStringConvertible {
    case notASocket(String)
    /// Another process listens on the socket.
    case inUse(String)
    case cannotRemove(String, Int32)
    case cannotChangeMode(String, Int32)

    public var description: String {
        switch self {
        case .notASocket(let path): "\(path) exists and is not a socket; choose another path"
        case .inUse(let path): "\(path) is in use: another process listens on it; stop it or choose another path"
        case .cannotRemove(let path, let code): "cannot remove the old socket \(path) (errno \(code))"
        case .cannotChangeMode(let path, let code): "cannot set the mode of \(path) (errno \(code))"
        }
    }
}
