import NIOCore
import WireMongo

extension LocalProxyError {
    /// The error as the reply to the client's first request (OP_REPLY for a legacy OP_QUERY
    /// hello, OP_MSG otherwise), so the driver shows `dbproxy: ...` as the server's errmsg.
    func mongoErrorReply(replyingTo request: MongoMessageHeader) -> ByteBuffer {
        let (code, codeName, hint): (Int32, String, String) =
            switch self {
            case .certificate: (18, "AuthenticationFailed", "issue a new certificate and restart the local proxy")
            case .routerUnreachable: (6, "HostUnreachable", "check that the router (dbproxy serve) is running and the --proxy address")
            case .tlsRefused: (6, "HostUnreachable", "check that the router trusts the CA of your certificate and --ca names the router's CA")
            case .handshakeTimeout: (89, "NetworkTimeout", "check the router's load and the network path to it")
            case .clientProtocol: (17, "ProtocolError", "")
            case .tooManyConnections: (1, "InternalError", "close idle connections, or start the local proxy with a larger --max-connections")
            }
        let reply = MongoErrorReply(message: "dbproxy: \(description)" + (hint.isEmpty ? "" : "; \(hint)"), code: code, codeName: codeName)
        return reply.encoded(replyingTo: request, requestID: 1)
    }
}
