import NIOCore
import WireMySQL

extension LocalProxyError {
    /// The error as the first packet a MySQL client reads (in place of the server greeting,
    /// sequence 0), so `mysql` prints it: `ERROR 1045 (28000): dbproxy: ...`.
    func mysqlErrorPacket(allocator: ByteBufferAllocator) -> ByteBuffer {
        let (code, state, hint): (UInt16, String, String) =
            switch self {
            case .certificate: (MySQLErrorCode.accessDenied, "28000", "issue a new certificate and restart the local proxy")
            case .routerUnreachable: (MySQLErrorCode.unknownError, "HY000", "check that the router (dbproxy serve) is running and the --proxy address")
            case .tlsRefused: (MySQLErrorCode.unknownError, "HY000", "check that the router trusts the CA of your certificate and --ca names the router's CA")
            case .handshakeTimeout: (MySQLErrorCode.unknownError, "HY000", "check the router's load and the network path to it")
            case .clientProtocol: (MySQLErrorCode.handshakeError, "08S01", "")
            case .tooManyConnections: (MySQLErrorCode.tooManyConnections, "08004", "close idle connections, or start the local proxy with a larger --max-connections")
            }
        var payload = allocator.buffer(capacity: 256)
        MySQLErrorPacket(code: code, sqlState: state, message: "dbproxy: \(description)" + (hint.isEmpty ? "" : "; \(hint)")).write(into: &payload)
        var packet = allocator.buffer(capacity: payload.readableBytes + 4)
        MySQLPacket(sequenceID: 0, payload: payload).write(into: &packet)
        return packet
    }
}
