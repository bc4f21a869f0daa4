import NIOCore
import ProxyCore
import WireMySQL

/// The router's side of a MySQL client's connection to `mysql_listen_addr` before and right
/// after TLS, free of I/O. The router speaks first with its own greeting (CLIENT_SSL set); the
/// client's SSLRequest starts TLS, in which its certificate says which database it may reach.
/// The client's HandshakeResponse41 then answers the router's scramble, not the database's:
/// `MySQLRouterSession` asks it again with an AuthSwitchRequest carrying the database's.
enum MySQLListenerHandshake {
    /// Capabilities the router's greeting offers: what MySQL 5.7+ and MariaDB 10.2+ servers all
    /// have (no compression, so statements stay readable for the audit log).
    static let capabilities: MySQLCapabilities = [
        .longPassword, .foundRows, .longFlag, .connectWithDB, .noSchema, .odbc, .localFiles, .ignoreSpace,
        .protocol41, .interactive, .ssl, .ignoreSigpipe, .transactions, .secureConnection, .multiStatements,
        .multiResults, .psMultiResults, .pluginAuth, .connectAttrs, .pluginAuthLenencClientData,
        .canHandleExpiredPasswords, .sessionTrack, .deprecateEOF,
    ]

    /// Capabilities that change what later packets look like or mean: one the client agreed with
    /// the router must be offered by the database too.
    static let sessionCapabilities: MySQLCapabilities = [
        .foundRows, .longFlag, .localFiles, .protocol41, .transactions, .multiStatements, .multiResults,
        .psMultiResults, .sessionTrack, .deprecateEOF,
    ]

    /// The server version the router's greeting announces unless configured otherwise.
    static let defaultServerVersion = "8.0.0-dbproxy"
    /// The largest first packet read before TLS (an SSLRequest has 32 bytes; a plain
    /// HandshakeResponse41 with attributes a few hundred).
    static let maximumFirstPacket = 16 * 1024
    /// `utf8mb4_general_ci`, known to MySQL and MariaDB.
    static let characterSet: UInt8 = 45
    /// `SERVER_STATUS_AUTOCOMMIT`.
    static let statusFlags: UInt16 = 0x0002

    /// The router's greeting (sequence 0), framed.
    static func greeting(connectionID: UInt32, scramble: [UInt8], serverVersion: String) -> ByteBuffer {
        let greeting = MySQLHandshakeV10(
            serverVersion: serverVersion, connectionID: connectionID, authPluginData: scramble,
            capabilities: capabilities, characterSet: characterSet, statusFlags: statusFlags,
            authPluginName: "mysql_native_password")
        var payload = ByteBuffer()
        greeting.write(into: &payload)
        return frame(payload, sequence: 0)
    }

    /// A fresh 20-byte scramble of printable bytes.
    static func makeScramble<Generator: RandomNumberGenerator>(using generator: inout Generator) -> [UInt8] {
        (0..<20).map { _ in UInt8.random(in: 0x21...0x7E, using: &generator) }
    }

    /// What to do with the client's first packet.
    enum Decision: Equatable {
        /// An SSLRequest: start TLS, replaying these bytes that came after it (a MySQL client
        /// starts its TLS handshake without waiting for an answer).
        case startTLS(replay: ByteBuffer)
        /// Send this framed ERR packet, then close for this reason.
        case refuse(ByteBuffer, RouterRejection)
    }

    /// Judges the client's first packet (`trailing`: the bytes that came after it).
    static func decide(_ packet: MySQLPacket, trailing: ByteBuffer) -> Decision {
        let reply = packet.sequenceID &+ 1
        guard packet.sequenceID == 1 else {
            return refuse(
                code: MySQLErrorCode.handshakeError, state: "08S01",
                "bad handshake: the first packet has sequence id \(packet.sequenceID), expected 1", sequence: reply)
        }
        let handshake: MySQLClientHandshake
        do {
            handshake = try MySQLClientHandshake(decoding: packet.payload)
        } catch {
            return refuse(code: MySQLErrorCode.handshakeError, state: "08S01", "bad handshake: \(error.message)", sequence: reply)
        }
        switch handshake {
        case .sslRequest:
            return .startTLS(replay: trailing)
        case .response(let response):
            return refuse(
                code: MySQLErrorCode.secureTransportRequired, state: "HY000",
                "TLS with a client certificate is required on this port (user '\(response.username)' logged in without TLS). \(connectHint)",
                sequence: reply)
        }
    }

    /// A first packet that is not MySQL at all (too long, or a TLS ClientHello, an HTTP request).
    static func malformed(_ reason: String, firstBytes: String) -> Decision {
        refuse(
            code: MySQLErrorCode.handshakeError, state: "08S01",
            "bad handshake: \(reason); first bytes \(firstBytes)", sequence: 1)
    }

    static let connectHint =
        "Connect with --ssl-cert=USER.pem --ssl-key=USER-key.pem --ssl-ca=HOST-CA.pem, or through dbproxy proxy."

    /// Why the router refused a client after TLS, as the ERR packet answering its
    /// HandshakeResponse41 (sent with `sequence`).
    static func refusal(_ reason: RouterRejection, sequence: UInt8) -> ByteBuffer {
        switch reason {
        case .tooManyConnections, .connectionRateExceeded:
            return errorPacket(code: MySQLErrorCode.tooManyConnections, state: "08004", "dbproxy router: \(reason)", sequence: sequence)
        default:
            break
        }
        let hint = reason == .route(.clientCertificateRequired)
            ? " " + connectHint
            : ""
        return errorPacket(
            code: MySQLErrorCode.accessDenied, state: "28000", "dbproxy router: \(reason).\(hint)", sequence: sequence)
    }

    /// A certificate for a database of another protocol, presented on `mysql_listen_addr`.
    static func notMySQL(_ database: DatabaseRoute) -> String {
        "certificate names database service \"\(database.name)\", which speaks \(database.databaseProtocol.rawValue); "
            + "mysql_listen_addr reaches only MySQL databases"
    }

    private static func refuse(code: UInt16, state: String, _ message: String, sequence: UInt8) -> Decision {
        .refuse(errorPacket(code: code, state: state, "dbproxy router: \(message)", sequence: sequence), .notTLS("MySQL client: \(message)"))
    }

    static func errorPacket(code: UInt16, state: String, _ message: String, sequence: UInt8) -> ByteBuffer {
        var payload = ByteBuffer()
        MySQLErrorPacket(code: code, sqlState: state, message: message).write(into: &payload)
        return frame(payload, sequence: sequence)
    }

    private static func frame(_ payload: ByteBuffer, sequence: UInt8) -> ByteBuffer {
        var buffer = ByteBuffer()
        MySQLPacket(sequenceID: sequence, payload: payload).write(into: &buffer)
        return buffer
    }
}
