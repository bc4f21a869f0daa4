#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file of a listening unix domain socket.
enum UnixSocketFile {
    /// Removes a socket left behind by an earlier run; anything else at `path` is an error, so
    /// a mistyped path never deletes a user's file.
    static func removeStale(at path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw UnixSocketError.notASocket(path) }
        guard unlink(path) == 0 else { throw UnixSocketError.cannotRemove(path, errno) }
    }

    static func restrict(_ path: String, mode: UInt16) throws {
        guard chmod(path, mode_t(mode)) == 0 else { throw UnixSocketError.cannotChangeMode(path, errno) }
    }
}

/// Errors preparing a unix socket listener.
public enum UnixSocketError: Error, CustomStringConvertible {
    case notASocket(String)
    case cannotRemove(String, Int32)
    case cannotChangeMode(String, Int32)

    public var description: String {
        switch self {
        case .notASocket(let path): "\(path) exists and is not a socket; choose another path"
        case .cannotRemove(let path, let code): "cannot remove the old socket \(path) (errno \(code))"
        case .cannotChangeMode(let path, let code): "cannot set the mode of \(path) (errno \(code))"
        }
    }
}
