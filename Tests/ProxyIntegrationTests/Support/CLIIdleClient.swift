import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL client that sends an SSLRequest, reads the local proxy's answer (so the proxy
/// has surely accepted it) and then holds the connection open without logging in.
final class CLIIdlePostgresClient {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw CLIFailure(what: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw CLIFailure(what: "connect to 127.0.0.1:\(port): errno \(errno)")
        }
        let sslRequest: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]
        var answer: UInt8 = 0
        guard write(descriptor, sslRequest, sslRequest.count) == sslRequest.count, read(descriptor, &answer, 1) == 1, answer == UInt8(ascii: "N") else {
            close(descriptor)
            throw CLIFailure(what: "the local proxy did not answer the SSLRequest with N")
        }
    }

    /// Whether the other side has closed the connection (waits up to `seconds`).
    func isClosedByPeer(within seconds: Int) -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(seconds * 1000)) == 1 else { return false }
        var byte: UInt8 = 0
        return read(descriptor, &byte, 1) <= 0
    }

    deinit { close(descriptor) }
}
