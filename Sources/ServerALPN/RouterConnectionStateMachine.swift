import NIOCore
import ProxyCore
import WireMySQL
import WirePostgres
import X509

/// The life of one router connection, free of I/O: it is fed what happens on the socket and
/// answers with what to do next. `RouterConnection` performs the actions.
struct RouterConnectionStateMachine {
    enum State {
        /// The peer is a trusted load balancer: a PROXY protocol header may come first.
        case readingProxyHeader(ByteBuffer)
        /// The client address is known (after the PROXY header, if any): the connection limits
        /// are being checked; bytes after the header wait here.
        case awaitingAdmission(ByteBuffer)
        /// A connection limit refused the client: its first bytes tell a PostgreSQL client (told
        /// in its protocol) from any other (closed).
        case refusing(ByteBuffer)
        /// The bytes after the PROXY header, if there was one.
        case readingClientHello(ByteBuffer)
        /// A PostgreSQL client's startup packets before TLS (after the PROXY header, if any).
        case readingPostgres(ByteBuffer)
        /// A MySQL client's first packet after the router's greeting (`mysql_listen_addr`).
        case readingMySQL(ByteBuffer)
        case connectingPassthrough
        case handshaking(RouteTable.Selection)
        case connectingBackend(RouteTable.Destination)
        case spliced
        case closed
        /// Held only inside `received(_:)`, so the buffer is not shared while it grows.
        case modifying
    }

    enum Action {
        case none
        /// Check the connection limits for this client address, then call `admitted()` or
        /// `refusedByLimits(_:)`.
        case checkLimits(HostAndPort?)
        /// Connect to the TLS backend, then replay these bytes to it and splice.
        case passThroughTLS(HostAndPort, replay: ByteBuffer)
        /// Install TLS termination for the selection and replay these bytes into it.
        case terminateTLS(RouteTable.Selection, replay: ByteBuffer)
        /// Connect to the destination (adding ping framing first when it says so).
        case connect(RouteTable.Destination)
        /// Splice the connection with the backend.
        case splice
        /// Close the connection and report why.
        case reject(RouterRejection)
        /// A PostgreSQL client that connected without TLS first (see `PlainPostgresAction`).
        case plainPostgres(PlainPostgresAction)
        /// A MySQL client on `mysql_listen_addr`, before TLS (see `MySQLListenerHandshake`).
        case mysql(MySQLListenerHandshake.Decision)
    }

    /// What to do for a PostgreSQL client that asks for TLS inside its own protocol.
    enum PlainPostgresAction {
        /// Write these bytes (`N`, the answer to a GSSENCRequest) and keep reading.
        case answer(ByteBuffer)
        /// Write `S` (the answer to the SSLRequest), then terminate TLS with client-certificate
        /// verification; `handshakeCompleted` routes by the certificate as for `teleport-postgres`.
        case startTLS
        /// Write this ErrorResponse, then close and report the rejection.
        case refuse(PostgresErrorResponse, RouterRejection)
        /// A TLS ClientHello offering ALPN `postgresql` (PostgreSQL 17's direct TLS): terminate
        /// TLS as after an SSLRequest, replaying these bytes into it.
        case startDirectTLS(replay: ByteBuffer)
    }

    private(set) var state: State
    private var helloParser = ClientHelloParser()
    let table: RouteTable
    let proxyProtocol: ProxyProtocolConfiguration?
    /// The socket's peer.
    let peer: HostAndPort?
    /// Whether the peer is in `proxyProtocol`'s trusted networks.
    let peerTrusted: Bool
    /// The PROXY protocol header a trusted peer sent, once read.
    private(set) var proxyHeader: ProxyProtocolHeader?
    /// The client asked for TLS with a PostgreSQL SSLRequest (TLS runs inside its protocol).
    private(set) var plainPostgres = false
    /// A GSSENCRequest was answered `N` already (a client sends at most one).
    private var answeredGSSENCRequest = false
    /// The listener the connection came to.
    let listener: RouterListener
    /// The connection limit that refused the client; every later rejection reports it.
    private(set) var limitRefusal: RouterRejection?
    /// Whether the machine stops for the connection limits once the client address is known
    /// (`checkLimits`); the router's connections do.
    let checksLimits: Bool

    init(
        table: RouteTable, proxyProtocol: ProxyProtocolConfiguration? = nil, peer: HostAndPort? = nil, listener: RouterListener = .main,
        checksLimits: Bool = false
    ) {
        self.table = table
        self.checksLimits = checksLimits
        self.listener = listener
        self.proxyProtocol = proxyProtocol
        self.peer = peer
        let address = peer.flatMap { IPAddress(parsing: $0.host) }
        peerTrusted = address.map { proxyProtocol?.trusts($0) ?? false } ?? false
        if peerTrusted {
            state = .readingProxyHeader(ByteBuffer())
        } else {
            state = checksLimits ? .awaitingAdmission(ByteBuffer()) : Self.reading(listener)
        }
    }

    /// The first action of a new connection: the limits check when the client address is the
    /// socket peer already (no PROXY header to wait for).
    func start() -> Action {
        if case .awaitingAdmission = state { return .checkLimits(clientAddress) }
        return .none
    }

    /// The limits let the client in: go on with what it sent.
    mutating func admitted() -> Action {
        guard case .awaitingAdmission(let buffered) = state else { return .none }
        state = Self.reading(listener)
        return buffered.readableBytes > 0 ? readFirstBytes(buffered) : .none
    }

    /// A connection limit refused the client: a PostgreSQL client is told so in its protocol
    /// (inside TLS when it asks for TLS, where libpq shows it), any other is closed.
    mutating func refusedByLimits(_ reason: RouterRejection) -> Action {
        guard case .awaitingAdmission(let buffered) = state else { return .none }
        limitRefusal = reason
        if listener == .mysql, !peerTrusted {
            // Not greeted yet: like a MySQL server that is full, the router's first packet is the ERR.
            state = .closed
            return .mysql(.refuse(MySQLListenerHandshake.refusal(reason, sequence: 0), reason))
        }
        return readRefused(buffered)
    }

    private mutating func readRefused(_ buffered: ByteBuffer) -> Action {
        guard let reason = limitRefusal else { return .none }
        guard buffered.readableBytes > 0 else {
            state = .refusing(buffered)
            return .none
        }
        // A client on mysql_listen_addr had the router's greeting: it goes on to TLS and is told
        // there, in answer to its login (`handshakeCompleted`).
        if listener == .mysql { return readMySQL(buffered) }
        if PlainPostgresSniffing.looksLikePostgres(buffered) { return readPostgres(buffered) }
        return reject(reason)
    }

    /// The state that reads a listener's first bytes.
    private static func reading(_ listener: RouterListener) -> State {
        listener == .mysql ? .readingMySQL(ByteBuffer()) : .readingClientHello(ByteBuffer())
    }

    /// The original client: the source of a trusted PROXY header, otherwise the socket's peer
    /// (also after a LOCAL command or an UNKNOWN/unspecified address).
    var clientAddress: HostAndPort? {
        proxyHeader?.clientAddress?.hostAndPort ?? peer
    }

    mutating func received(_ bytes: ByteBuffer) -> Action {
        var incoming = bytes
        switch state {
        case .readingProxyHeader(var buffered):
            state = .modifying
            buffered.writeBuffer(&incoming)
            switch ProxyProtocolParser.parse(buffered) {
            case .needMoreData:
                state = .readingProxyHeader(buffered)
                return .none
            case .invalid(let reason):
                return reject(.proxyHeaderInvalid(reason))
            case .notProxyProtocol:
                if proxyProtocol?.header == .required { return reject(.proxyHeaderMissing(peer: peerText)) }
                return clientAddressKnown(buffered)
            case .header(let header):
                proxyHeader = header
                buffered.moveReaderIndex(forwardBy: header.consumedBytes)
                return clientAddressKnown(buffered)
            }
        case .awaitingAdmission(var buffered):
            state = .modifying
            buffered.writeBuffer(&incoming)
            state = .awaitingAdmission(buffered)
            return .none
        case .refusing(var buffered):
            state = .modifying
            buffered.writeBuffer(&incoming)
            return readRefused(buffered)
        case .readingClientHello(var buffered):
            state = .modifying
            buffered.writeBuffer(&incoming)
            return readClientHello(buffered)
        case .readingPostgres(var buffered):
            state = .modifying
            buffered.writeBuffer(&incoming)
            return readPostgres(buffered)
        case .readingMySQL(var buffered):
            state = .modifying
            buffered.writeBuffer(&incoming)
            return readMySQL(buffered)
        default:
            return .none
        }
    }

    /// The PROXY header was read (or found absent): check the limits, or go on.
    private mutating func clientAddressKnown(_ buffered: ByteBuffer) -> Action {
        guard checksLimits else { return readFirstBytes(buffered) }
        state = .awaitingAdmission(buffered)
        return .checkLimits(clientAddress)
    }

    /// `buffered`: every byte after the PROXY header (if any) so far.
    private mutating func readFirstBytes(_ buffered: ByteBuffer) -> Action {
        listener == .mysql ? readMySQL(buffered) : readClientHello(buffered)
    }

    /// `buffered`: every byte after the PROXY header (if any) so far.
    private mutating func readClientHello(_ buffered: ByteBuffer) -> Action {
        let untrustedHeader = ProxyProtocolParser.looksLikeHeader(buffered) && !peerTrusted
        if listener != .mongo, PlainPostgresSniffing.looksLikePostgres(buffered) { return readPostgres(buffered) }
        if listener == .postgres, !untrustedHeader, !PlainPostgresSniffing.looksLikeTLS(buffered) {
            return reject(.notTLS(PlainPostgresSniffing.notPostgresListener(buffered)))
        }
        switch helloParser.parse(buffered) {
        case .needMoreData:
            guard buffered.readableBytes <= ClientHelloParser.maximumLength + 4096 else {
                return reject(.notTLS("ClientHello larger than \(ClientHelloParser.maximumLength) bytes"))
            }
            state = .readingClientHello(buffered)
            return .none
        case .invalid(let reason):
            if !peerTrusted, ProxyProtocolParser.looksLikeHeader(buffered) {
                guard proxyProtocol != nil else {
                    return reject(.notTLS("\(reason); the bytes start like a PROXY protocol header, and proxy_service.proxy_protocol is not configured"))
                }
                return reject(.proxyHeaderUntrusted(peer: peerText))
            }
            if listener == .mongo { return reject(.notTLS(Self.notMongoTLS(reason, buffered))) }
            if listener == .postgres { return reject(.notTLS(PlainPostgresSniffing.notPostgresListener(buffered))) }
            return reject(.notTLS(reason))
        case .clientHello(let hello) where listener != .mongo && PlainPostgresSniffing.isDirectTLS(hello):
            // PostgreSQL 17's sslnegotiation=direct: TLS at once, ALPN `postgresql`; routed as a
            // client that asked with an SSLRequest.
            plainPostgres = true
            state = .handshaking(.database)
            return .plainPostgres(.startDirectTLS(replay: buffered))
        case .clientHello where listener == .postgres:
            return reject(.notTLS(PlainPostgresSniffing.notPostgresListener(buffered)))
        case .clientHello(let hello):
            if listener == .mongo {
                // Whatever the ALPN (MongoDB drivers offer none), the certificate names the database.
                state = .handshaking(.database)
                return .terminateTLS(.database, replay: buffered)
            }
            guard let selection = table.select(hello) else {
                return reject(.noRoute(serverName: hello.serverName, offered: hello.applicationProtocols))
            }
            switch table.passthroughTarget(for: selection, hello: hello) {
            case .success(let target):
                state = .connectingPassthrough
                return .passThroughTLS(target, replay: buffered)
            case .failure(let rejection):
                return reject(.route(rejection))
            case nil:
                break
            }
            state = .handshaking(selection)
            return .terminateTLS(selection, replay: buffered)
        }
    }

    private var peerText: String { peer?.description ?? "an unknown peer" }

    private static func notMongoTLS(_ reason: String, _ buffered: ByteBuffer) -> String {
        "mongo_listen_addr takes TLS from the first byte (tls=true&tlsCertificateKeyFile=USER.pem&tlsCAFile=HOST-CA.pem): "
            + "\(reason); first bytes \(PlainPostgresSniffing.hexPrefix(buffered))"
    }

    /// `buffered`: the MySQL client's bytes after the router's greeting (and the PROXY header,
    /// if any). Its first packet must be an SSLRequest; TLS then starts in band.
    private mutating func readMySQL(_ buffered: ByteBuffer) -> Action {
        if !peerTrusted, ProxyProtocolParser.looksLikeHeader(buffered) {
            guard proxyProtocol != nil else {
                return reject(.notTLS("a PROXY protocol header, and proxy_service.proxy_protocol is not configured"))
            }
            return reject(.proxyHeaderUntrusted(peer: peerText))
        }
        var rest = buffered
        var decoder = MySQLPacketDecoder(maximumPayload: MySQLListenerHandshake.maximumFirstPacket)
        let decision: MySQLListenerHandshake.Decision
        do {
            guard let packet = try decoder.decode(&rest) else {
                state = .readingMySQL(buffered)
                return .none
            }
            decision = MySQLListenerHandshake.decide(packet, trailing: rest)
        } catch {
            decision = MySQLListenerHandshake.malformed(error.message, firstBytes: PlainPostgresSniffing.hexPrefix(buffered))
        }
        switch decision {
        case .startTLS:
            state = .handshaking(.database)
        case .refuse:
            state = .closed
        }
        return .mysql(decision)
    }

    /// `buffered`: the PostgreSQL startup packets after the PROXY header (if any) and after the
    /// GSSENCRequest already answered (if any). An SSLRequest starts TLS, a GSSENCRequest is
    /// answered `N`; a StartupMessage in plain text is refused with an ErrorResponse and a
    /// CancelRequest (which carries no certificate to check) by closing.
    private mutating func readPostgres(_ buffered: ByteBuffer) -> Action {
        var rest = buffered
        let packet: PostgresStartupPacket?
        do {
            packet = try PostgresStartupDecoder.decode(&rest)
        } catch {
            return refusePostgres(PlainPostgresSniffing.invalidStartupPacket(error.message, first: buffered))
        }
        guard let packet else {
            state = .readingPostgres(buffered)
            return .none
        }
        switch packet {
        case .sslRequest:
            // As PostgreSQL does: bytes sent before `S` would be taken as if they came over TLS.
            guard rest.readableBytes == 0 else {
                return refusePostgres(PlainPostgresSniffing.unencryptedData(after: "SSLRequest"))
            }
            plainPostgres = true
            state = .handshaking(.database)
            return .plainPostgres(.startTLS)
        case .gssEncRequest:
            guard !answeredGSSENCRequest else { return refusePostgres(PlainPostgresSniffing.secondGSSENCRequest) }
            guard rest.readableBytes == 0 else {
                return refusePostgres(PlainPostgresSniffing.unencryptedData(after: "GSSENCRequest"))
            }
            answeredGSSENCRequest = true
            state = .readingPostgres(rest)
            return .plainPostgres(.answer(ByteBuffer(bytes: [PostgresSSLResponse.notSupported.rawValue])))
        case .startup(let message):
            if let limitRefusal { return refusePostgres((PostgresLimitRefusal.errorResponse(limitRefusal), limitRefusal)) }
            return refusePostgres(PlainPostgresSniffing.tlsRequired(user: message.user))
        case .cancelRequest:
            return reject(.notTLS(PlainPostgresSniffing.cancelRefused))
        }
    }

    private mutating func refusePostgres(_ refusal: (PostgresErrorResponse, RouterRejection)) -> Action {
        state = .closed
        return .plainPostgres(.refuse(refusal.0, limitRefusal ?? refusal.1))
    }

    mutating func handshakeCompleted(negotiatedProtocol: String?, peerCertificate: Certificate?) -> Action {
        guard case .handshaking(let selection) = state else { return .none }
        if let limitRefusal { return reject(limitRefusal) }
        // A client that came with an SSLRequest is routed as one that negotiated teleport-postgres
        // (never ping framing, whatever ALPN it offered).
        let negotiatedProtocol = plainPostgres || listener == .mysql || listener == .mongo ? nil : negotiatedProtocol
        var identity: CertificateIdentity?
        if let peerCertificate {
            do {
                identity = try CertificateIdentity(certificate: peerCertificate)
            } catch {
                return reject(.badCertificate(error))
            }
        }
        switch table.destination(for: selection, negotiatedProtocol: negotiatedProtocol, identity: identity) {
        case .success(let destination):
            if plainPostgres, let database = destination.database, !database.databaseProtocol.isPostgresWire {
                return reject(.databaseRefused(PlainPostgresSniffing.notPostgres(database)))
            }
            if listener == .mysql, let database = destination.database, database.databaseProtocol != .mysql {
                return reject(.databaseRefused(MySQLListenerHandshake.notMySQL(database)))
            }
            if listener == .mongo, let database = destination.database, database.databaseProtocol != .mongodb {
                return reject(.databaseRefused(
                    "certificate names database service \"\(database.name)\", which speaks \(database.databaseProtocol.rawValue); mongo_listen_addr reaches only MongoDB databases"))
            }
            state = .connectingBackend(destination)
            return .connect(destination)
        case .failure(let rejection):
            return reject(.route(rejection))
        }
    }

    /// Where the connection is being taken, while the backend is being reached.
    var destination: RouteTable.Destination? {
        if case .connectingBackend(let destination) = state { return destination }
        return nil
    }

    mutating func connected() -> Action {
        switch state {
        case .connectingBackend, .connectingPassthrough:
            state = .spliced
            return .splice
        default:
            return .none
        }
    }

    mutating func connectFailed(_ address: HostAndPort, _ error: any Error) -> Action {
        switch state {
        case .connectingBackend, .connectingPassthrough:
            return reject(.backendUnreachable(address, String(describing: error)))
        default:
            return .none
        }
    }

    /// A protocol handler refused the connection after telling the client why.
    mutating func refused(_ reason: RouterRejection) -> Action {
        switch state {
        case .closed: return .none
        default: return reject(reason)
        }
    }

    mutating func tlsFailed(_ error: any Error) -> Action {
        guard case .handshaking = state else { return .none }
        return reject(.tlsFailed(String(describing: error)))
    }

    mutating func deadlinePassed() -> Action {
        switch state {
        case .readingProxyHeader, .awaitingAdmission, .refusing, .readingClientHello, .readingPostgres, .readingMySQL, .handshaking:
            return reject(.handshakeTimeout)
        default:
            return .none
        }
    }

    /// The client ended its input (a TCP FIN) before TLS: no ClientHello or startup packet can
    /// complete any more, so the connection is closed now rather than at the deadline.
    mutating func inputClosed() -> Action {
        switch state {
        case .readingProxyHeader, .awaitingAdmission, .refusing, .readingClientHello, .readingPostgres:
            return reject(.notTLS("the client closed its side before sending a complete ClientHello or PostgreSQL startup packet"))
        default:
            return .none
        }
    }

    /// The login deadline of a protocol handler passed.
    mutating func loginDeadlinePassed() -> Action {
        guard case .connectingBackend = state else { return .none }
        return reject(.loginTimeout)
    }

    mutating func channelClosed() {
        state = .closed
    }

    private mutating func reject(_ reason: RouterRejection) -> Action {
        state = .closed
        return .reject(limitRefusal ?? reason)
    }
}
