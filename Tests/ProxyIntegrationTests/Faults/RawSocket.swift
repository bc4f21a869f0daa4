import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP socket on 127.0.0.1 with the system calls a fault test needs spelled out:
/// single-byte writes, shutdown of one direction, reads with a timeout. Use from a thread of its
/// own (``RawSocket/onThread(_:)``), never on the concurrency pool.
final class RawSocket: @unchecked Sendable {
    let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// Connects to 127.0.0.1:`port`.
    convenience init(port: Int) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw CLIFailure(what: "socket: errno \(errno)") }
        var address = RawSocket.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let failure = errno
            close(descriptor)
            throw CLIFailure(what: "connect to 127.0.0.1:\(port): errno \(failure)")
        }
        self.init(descriptor: descriptor)
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    deinit { close(descriptor) }

    /// Writes all of `bytes`; false when the connection refused them (closed or reset).
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    enum ReadResult: Equatable {
        case data([UInt8]), endOfFile, failed(Int32), timedOut
    }

    /// One read of up to `maximum` bytes, waiting at most `milliseconds` for something to arrive.
    func read(maximum: Int = 65536, milliseconds: Int32) -> ReadResult {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, milliseconds)
        if ready == 0 { return .timedOut }
        if ready < 0 { return errno == EINTR ? .timedOut : .failed(errno) }
        var buffer = [UInt8](repeating: 0, count: maximum)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, maximum, 0) }
        if count > 0 { return .data(Array(buffer[0..<count])) }
        return count == 0 ? .endOfFile : .failed(errno)
    }

    /// Reads until the other side closes its output or `seconds` pass without a byte.
    func readToEnd(seconds: Int32 = 30) -> (bytes: [UInt8], ended: Bool) {
        var collected: [UInt8] = []
        while true {
            switch read(milliseconds: seconds * 1000) {
            case .data(let bytes): collected += bytes
            case .endOfFile: return (collected, true)
            case .failed, .timedOut: return (collected, false)
            }
        }
    }

    /// shutdown(SHUT_WR): the other side reads end-of-file; this side can still read.
    func shutdownOutput() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Sets SO_RCVBUF (before the connection fills it).
    func setReceiveBuffer(_ bytes: Int32) {
        var value = bytes
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Runs blocking socket work on a thread of its own and awaits the result.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// A TCP listener on 127.0.0.1 that hands every accepted connection to `handle` on a thread of
/// its own.
final class RawListener: @unchecked Sendable {
    let descriptor: Int32
    let port: Int

    init(handle: @escaping @Sendable (RawSocket) -> Void) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw CLIFailure(what: "socket: errno \(errno)") }
        var address = RawSocket.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 64) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard listening else {
            close(descriptor)
            throw CLIFailure(what: "listen: errno \(errno)")
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread {
            while true {
                let accepted = accept(descriptor, nil, nil)
                if accepted < 0 {
                    if errno == EINTR { continue }
                    return
                }
                let connection = RawSocket(descriptor: accepted)
                Thread.detachNewThread { handle(connection) }
            }
        }
    }

    /// Stops accepting (shutdown wakes the accepting thread).
    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }
}
