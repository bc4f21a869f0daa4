import NIOCore
import ProxyCore
import WireMySQL

/// The connection phase of a MySQL connection through the router, free of I/O. The database
/// speaks first: its greeting goes to the client without CLIENT_SSL (the router's TLS already
/// protects that hop); the client's HandshakeResponse41 is checked against the certificate;
/// where the database is reached over TLS, the router sends its own SSLRequest and every later
/// packet of the phase has its sequence id shifted by one in each direction; at the OK the
/// two connections are spliced. Public so that it can be driven from outside the router (the
/// fuzzers in Fuzz/); the router's own handlers are its only production user.
public struct MySQLRouterSession {
    /// What the caller performs, in order.
    public enum Action: Equatable, Sendable {
        case sendToClient(ByteBuffer)
        case sendToBackend(ByteBuffer)
        /// Start TLS on the database connection, then call `backendTLSEstablished()`.
        case startBackendTLS
        /// Authentication succeeded: splice, first passing on what each side sent beyond it.
        case splice(toBackend: ByteBuffer, toClient: ByteBuffer)
        /// Send the client this ERR packet (already framed) and close both connections.
        case fail(ByteBuffer, reason: String)
        /// The database refused (its ERR was passed on): close both connections.
        case close(reason: String)
    }

    private enum State {
        case awaitingGreeting
        case awaitingClientResponse(MySQLHandshakeV10)
        /// `mysql_listen_addr`: the client was asked to answer the database's scramble.
        case awaitingSwitchResponse(MySQLHandshakeResponse41, MySQLHandshakeV10)
        case awaitingBackendTLS(response: ByteBuffer)
        case authenticating
        case done
    }

    private var state = State.awaitingGreeting
    /// The user and database the client's HandshakeResponse41 named (for the audit log).
    public private(set) var login: (username: String, database: String?)?
    private var fromBackend = ByteBuffer()
    private var fromClient = ByteBuffer()
    private var backendDecoder = MySQLPacketDecoder()
    private var clientDecoder = MySQLPacketDecoder()
    /// How much larger a sequence id is on the database connection than on the client's.
    private var shift: UInt8 = 0
    /// The client has begun sending commands; they are held in `fromClient` until the OK.
    private var commandsStarted = false
    /// The database asked for the password in clear text (caching_sha2_password's full
    /// authentication, or mysql_clear_password).
    private var cleartextExpected = false
    private static let clearPasswordPlugin = "mysql_clear_password"
    private let identity: CertificateIdentity?
    private let service: String
    private let tlsMode: DatabaseTLS.Mode
    /// The client logged in to the router's own greeting (`mysql_listen_addr`).
    private let listener: Bool
    /// The sequence id of the client's last packet of the connection phase.
    private var clientSequence: UInt8

    /// A session for a client holding `identity` (nil: no certificate restriction) to database
    /// `service`; `listener`: the client came to `mysql_listen_addr` and logged in to the
    /// router's own greeting.
    public init(identity: CertificateIdentity?, service: String, tlsMode: DatabaseTLS.Mode, listener: Bool = false) {
        self.identity = identity
        self.service = service
        self.tlsMode = tlsMode
        self.listener = listener
        // On the listener the client has sent its SSLRequest (1) and is sending its response (2).
        self.clientSequence = listener ? 2 : 0
    }

    /// The sequence id for an ERR packet the client reads next, when the router fails on its own
    /// (the database is unreachable): nil before the client had a greeting.
    var failureSequence: UInt8? {
        if listener { return clientSequence &+ 1 }
        if case .awaitingGreeting = state { return nil }
        return 2
    }

    /// Bytes from the database.
    public mutating func backendReceived(_ bytes: ByteBuffer) -> [Action] {
        var bytes = bytes
        fromBackend.writeBuffer(&bytes)
        var actions: [Action] = []
        while true {
            let packet: MySQLPacket?
            do {
                packet = try backendDecoder.decode(&fromBackend)
            } catch {
                return actions + [fail(code: MySQLErrorCode.handshakeError, state: "08S01", "the database sent a malformed packet: \(error.message)", sequence: 0)]
            }
            guard let packet else { return actions }
            let greeting: Bool = if case .awaitingGreeting = state { true } else { false }
            let (next, finished) = backendPacket(packet)
            actions += next
            if finished { return actions }
            if greeting, fromClient.readableBytes > 0 {
                // The client spoke before the greeting: what it sent is read now, or it would
                // wait for an answer until the login timeout.
                return actions + clientReceived(ByteBuffer())
            }
        }
    }

    /// Bytes from the client.
    public mutating func clientReceived(_ bytes: ByteBuffer) -> [Action] {
        var bytes = bytes
        fromClient.writeBuffer(&bytes)
        var actions: [Action] = []
        while true {
            if case .awaitingGreeting = state { return actions }  // a client that speaks first waits
            if case .awaitingBackendTLS = state { return actions }
            if commandsStarted { return actions }
            let packet: MySQLPacket?
            do {
                packet = try clientDecoder.decode(&fromClient)
            } catch {
                return actions + [fail(code: MySQLErrorCode.handshakeError, state: "08S01", "malformed packet: \(error.message)", sequence: 2)]
            }
            guard let packet else { return actions }
            let (next, finished) = clientPacket(packet)
            actions += next
            if finished { return actions }
        }
    }

    /// The TLS handshake asked for by `startBackendTLS` completed.
    public mutating func backendTLSEstablished() -> [Action] {
        guard case .awaitingBackendTLS(let response) = state else { return [] }
        state = .authenticating
        return [.sendToBackend(response)] + clientReceived(ByteBuffer())
    }

    // MARK: Packets

    /// Returns the actions and whether the phase ended.
    private mutating func backendPacket(_ packet: MySQLPacket) -> ([Action], Bool) {
        switch state {
        case .awaitingGreeting:
            if MySQLConnectionPhasePacket(payload: packet.payload) == .error {
                // Too many connections, host blocked ...: the client sees the database's own words.
                state = .done
                return ([.sendToClient(Self.frame(packet.payload, sequence: packet.sequenceID)), .close(reason: "the database refused the connection")], true)
            }
            let greeting: MySQLHandshakeV10
            do {
                greeting = try MySQLHandshakeV10(decoding: packet.payload)
            } catch {
                return ([fail(code: MySQLErrorCode.handshakeError, state: "08S01", "the database's greeting is not MySQL protocol 10: \(error.message)", sequence: 0)], true)
            }
            if tlsMode != .disable, !greeting.capabilities.contains(.ssl) {
                return ([fail(
                    code: MySQLErrorCode.unknownError, state: "HY000",
                    "database \"\(service)\" does not offer TLS, but its tls mode is \(tlsMode.rawValue)", sequence: 0)], true)
            }
            if listener {
                // The client has the router's greeting; it answers this one's scramble later.
                state = .awaitingClientResponse(greeting)
                let actions = clientReceived(ByteBuffer())
                if case .done = state { return (actions, true) }
                return (actions, false)
            }
            var toClient = greeting
            toClient.capabilities.remove(.ssl)
            var payload = ByteBuffer()
            toClient.write(into: &payload)
            state = .awaitingClientResponse(greeting)
            return ([.sendToClient(Self.frame(payload, sequence: packet.sequenceID))], false)
        case .authenticating:
            let kind = MySQLConnectionPhasePacket(payload: packet.payload)
            let toClient = Self.frame(packet.payload, sequence: packet.sequenceID &- shift)
            switch kind {
            case .ok:
                state = .done
                var toBackend = ByteBuffer()
                toBackend.writeBuffer(&fromClient)
                var rest = toClient
                rest.writeBuffer(&fromBackend)
                return ([.splice(toBackend: toBackend, toClient: rest)], true)
            case .error:
                state = .done
                return ([.sendToClient(toClient), .close(reason: "the database refused the login")], true)
            case .authMoreData:
                // caching_sha2_password's "perform full authentication": the client's next packet
                // is its password in clear text, unless it asks for the server's RSA key (0x02).
                if Array(packet.payload.readableBytesView) == [0x01, 0x04] { cleartextExpected = true }
                return ([.sendToClient(toClient)], false)
            case .authSwitch:
                if let request = try? MySQLAuthSwitchRequest(decoding: packet.payload), request.pluginName == Self.clearPasswordPlugin {
                    cleartextExpected = true
                }
                return ([.sendToClient(toClient)], false)
            default:
                return ([.sendToClient(toClient)], false)
            }
        default:
            return ([fail(code: MySQLErrorCode.handshakeError, state: "08S01", "the database spoke out of turn", sequence: 0)], true)
        }
    }

    private mutating func clientPacket(_ packet: MySQLPacket) -> ([Action], Bool) {
        clientSequence = packet.sequenceID
        switch state {
        case .awaitingClientResponse(let greeting) where listener:
            return listenerResponse(packet, greeting: greeting)
        case .awaitingSwitchResponse(let response, let greeting):
            return switchResponse(packet, response: response, greeting: greeting)
        case .awaitingClientResponse(let greeting):
            let response: MySQLHandshakeResponse41
            do {
                switch try MySQLClientHandshake(decoding: packet.payload) {
                case .sslRequest:
                    return ([fail(code: MySQLErrorCode.handshakeError, state: "08S01", "TLS was not offered on this connection; it is already encrypted up to the router", sequence: packet.sequenceID &+ 1)], true)
                case .response(let decoded):
                    response = decoded
                }
            } catch {
                return ([fail(code: MySQLErrorCode.handshakeError, state: "08S01", "bad handshake response: \(error.message)", sequence: packet.sequenceID &+ 1)], true)
            }
            login = (response.username, response.database.flatMap { $0.isEmpty ? nil : $0 })
            if tlsMode == .disable, response.authPluginName == Self.clearPasswordPlugin, !response.authResponse.isEmpty {
                return ([refuseCleartext(sequence: packet.sequenceID &+ 1)], true)
            }
            if let refusal = MySQLLoginAuthorization.refusal(for: response, identity: identity, service: service) {
                var payload = ByteBuffer()
                refusal.write(into: &payload)
                state = .done
                return ([.fail(Self.frame(payload, sequence: packet.sequenceID &+ 1), reason: refusal.message)], true)
            }
            guard tlsMode != .disable else {
                // The database must not wait for a TLS handshake that no one will start.
                var payload = packet.payload
                Self.setCapabilities(response.capabilities.subtracting(.ssl), in: &payload)
                state = .authenticating
                return ([.sendToBackend(Self.frame(payload, sequence: packet.sequenceID))], false)
            }
            // SSLRequest takes the response's sequence id; the response follows on TLS, one later.
            shift = 1
            let capabilities = response.capabilities.union(.ssl).intersection(greeting.capabilities.union(.ssl))
            var request = ByteBuffer()
            MySQLSSLRequest(
                capabilities: capabilities, maxPacketSize: response.maxPacketSize, characterSet: response.characterSet,
                mariaDBExtendedCapabilities: response.mariaDBExtendedCapabilities
            ).write(into: &request)
            var payload = packet.payload
            Self.setCapabilities(capabilities, in: &payload)
            // Flags the database did not offer are cleared, and some of them decide the layout
            // (how the auth response is sized, whether a database name follows): the database
            // must read the same user and database that were checked above.
            guard let forwarded = try? MySQLHandshakeResponse41(decoding: payload),
                  forwarded.username == response.username, forwarded.database == response.database
            else {
                return ([fail(
                    code: MySQLErrorCode.handshakeError, state: "08S01",
                    "bad handshake response: it claims capabilities the database did not offer and reads differently without them",
                    sequence: packet.sequenceID &+ 1)], true)
            }
            state = .awaitingBackendTLS(response: Self.frame(payload, sequence: packet.sequenceID &+ 1))
            return ([.sendToBackend(Self.frame(request, sequence: packet.sequenceID)), .startBackendTLS], false)
        case .authenticating:
            if packet.sequenceID == 0 {
                // A command sent before the login finished (no login packet has sequence 0):
                // it and all after it wait for the OK and then go out as they are.
                var pending = Self.frame(packet.payload, sequence: 0)
                pending.writeBuffer(&fromClient)
                fromClient = pending
                commandsStarted = true
                return ([], true)
            }
            if cleartextExpected {
                cleartextExpected = false
                let asksForKey = Array(packet.payload.readableBytesView) == [0x02]
                if !asksForKey, tlsMode == .disable {
                    return ([refuseCleartext(sequence: packet.sequenceID &+ 1)], true)
                }
            }
            return ([.sendToBackend(Self.frame(packet.payload, sequence: packet.sequenceID &+ shift))], false)
        default:
            return ([], false)
        }
    }

    // MARK: mysql_listen_addr

    /// The client's HandshakeResponse41 to the router's greeting: checked against the
    /// certificate, then the client is asked to answer the database's scramble.
    private mutating func listenerResponse(_ packet: MySQLPacket, greeting: MySQLHandshakeV10) -> ([Action], Bool) {
        let reply = packet.sequenceID &+ 1
        let response: MySQLHandshakeResponse41
        do {
            switch try MySQLClientHandshake(decoding: packet.payload) {
            case .sslRequest:
                return ([fail(code: MySQLErrorCode.handshakeError, state: "08S01", "a second SSLRequest inside TLS", sequence: reply)], true)
            case .response(let decoded):
                response = decoded
            }
        } catch {
            return ([fail(code: MySQLErrorCode.handshakeError, state: "08S01", "bad handshake response: \(error.message)", sequence: reply)], true)
        }
        login = (response.username, response.database.flatMap { $0.isEmpty ? nil : $0 })
        if let refusal = MySQLLoginAuthorization.refusal(for: response, identity: identity, service: service) {
            var payload = ByteBuffer()
            refusal.write(into: &payload)
            state = .done
            return ([.fail(Self.frame(payload, sequence: reply), reason: refusal.message)], true)
        }
        guard response.capabilities.contains(.pluginAuth) else {
            return ([fail(
                code: MySQLErrorCode.handshakeError, state: "08S01",
                "the client does not support authentication plugins (CLIENT_PLUGIN_AUTH), which mysql_listen_addr needs", sequence: reply)], true)
        }
        let agreed = response.capabilities.intersection(MySQLListenerHandshake.capabilities)
        let missing = agreed.intersection(MySQLListenerHandshake.sessionCapabilities).subtracting(greeting.capabilities)
        guard missing.isEmpty else {
            return ([fail(
                code: MySQLErrorCode.handshakeError, state: "08S01",
                "database \"\(service)\" lacks capabilities the client agreed with the router (flags 0x\(String(missing.rawValue, radix: 16)))",
                sequence: reply)], true)
        }
        guard let plugin = greeting.authPluginName, greeting.capabilities.contains(.pluginAuth) else {
            return ([fail(
                code: MySQLErrorCode.handshakeError, state: "08S01",
                "database \"\(service)\" does not support authentication plugins (CLIENT_PLUGIN_AUTH)", sequence: reply)], true)
        }
        if tlsMode == .disable, plugin == Self.clearPasswordPlugin {
            return ([refuseCleartext(sequence: reply)], true)
        }
        var request = ByteBuffer()
        MySQLAuthSwitchRequest(pluginName: plugin, pluginData: greeting.authPluginData + [0]).write(into: &request)
        state = .awaitingSwitchResponse(response, greeting)
        return ([.sendToClient(Self.frame(request, sequence: reply))], false)
    }

    /// The client's answer to the database's scramble: the database gets the client's
    /// HandshakeResponse41 with it (after its own SSLRequest where its TLS is configured).
    private mutating func switchResponse(
        _ packet: MySQLPacket, response: MySQLHandshakeResponse41, greeting: MySQLHandshakeV10
    ) -> ([Action], Bool) {
        var forward = response
        forward.authResponse = Array(packet.payload.readableBytesView)
        forward.authPluginName = greeting.authPluginName
        let agreed = response.capabilities.intersection(MySQLListenerHandshake.capabilities)
        var capabilities = agreed.intersection(greeting.capabilities)
        if !capabilities.contains(.pluginAuthLenencClientData), forward.authResponse.count > 255 {
            return ([fail(code: MySQLErrorCode.handshakeError, state: "08S01", "authentication data too long for the database", sequence: packet.sequenceID &+ 1)], true)
        }
        if tlsMode == .disable {
            capabilities.remove(.ssl)
            forward.capabilities = capabilities
            var payload = ByteBuffer()
            forward.write(into: &payload)
            shift = 1 &- packet.sequenceID
            state = .authenticating
            return ([.sendToBackend(Self.frame(payload, sequence: 1))], false)
        }
        capabilities.insert(.ssl)
        forward.capabilities = capabilities
        var request = ByteBuffer()
        MySQLSSLRequest(
            capabilities: capabilities, maxPacketSize: response.maxPacketSize, characterSet: response.characterSet,
            mariaDBExtendedCapabilities: 0
        ).write(into: &request)
        var payload = ByteBuffer()
        forward.write(into: &payload)
        shift = 2 &- packet.sequenceID
        state = .awaitingBackendTLS(response: Self.frame(payload, sequence: 2))
        return ([.sendToBackend(Self.frame(request, sequence: 1)), .startBackendTLS], false)
    }

    /// A password in clear text only ever travels on TLS: the router's hop from the local proxy
    /// is TLS, the database's must be too.
    private mutating func refuseCleartext(sequence: UInt8) -> Action {
        fail(
            code: MySQLErrorCode.accessDenied, state: "28000",
            "refusing to send a clear-text password to database \"\(service)\" over plain TCP; give the database a tls mode in the router configuration, or let the client use the RSA key exchange (no local TLS, --get-server-public-key)",
            sequence: sequence)
    }

    private mutating func fail(code: UInt16, state sqlState: String, _ message: String, sequence: UInt8) -> Action {
        state = .done
        var payload = ByteBuffer()
        MySQLErrorPacket(code: code, sqlState: sqlState, message: "dbproxy router: \(message)").write(into: &payload)
        return .fail(Self.frame(payload, sequence: sequence), reason: message)
    }

    private static func frame(_ payload: ByteBuffer, sequence: UInt8) -> ByteBuffer {
        var buffer = ByteBuffer()
        MySQLPacket(sequenceID: sequence, payload: payload).write(into: &buffer)
        return buffer
    }

    /// The capability flags are the first four bytes (little-endian) of a HandshakeResponse41.
    private static func setCapabilities(_ capabilities: MySQLCapabilities, in payload: inout ByteBuffer) {
        payload.setInteger(capabilities.rawValue, at: payload.readerIndex, endianness: .little)
    }
}

/// Which database users and database names a certificate admits, for MySQL logins (the same
/// rule as PostgreSQL's: what the certificate names, it restricts).
enum MySQLLoginAuthorization {
    static func refusal(for response: MySQLHandshakeResponse41, identity: CertificateIdentity?, service: String) -> MySQLErrorPacket? {
        guard let identity else { return nil }
        let users = identity.admittedDatabaseUsers
        let names = identity.admittedDatabaseNames
        if !users.isEmpty, !users.contains(response.username) {
            return MySQLErrorPacket(
                code: MySQLErrorCode.accessDenied, sqlState: "28000",
                message: "dbproxy router: access denied for user '\(response.username)': the certificate of \"\(identity.username)\" allows database users \(users.joined(separator: ", ")) on \(service)")
        }
        if let database = response.database, !database.isEmpty, !names.isEmpty, !names.contains(database) {
            return MySQLErrorPacket(
                code: MySQLErrorCode.dbAccessDenied, sqlState: "42000",
                message: "dbproxy router: access denied to database '\(database)': the certificate of \"\(identity.username)\" allows databases \(names.joined(separator: ", ")) on \(service)")
        }
        return nil
    }
}
