import NIOCore
import ProxyCore
import X509

/// The life of one router connection, free of I/O: it is fed what happens on the socket and
/// answers with what to do next. `RouterConnection` performs the actions.
struct RouterConnectionStateMachine {
    enum State {
        /// The peer is a trusted load balancer: a PROXY protocol header may come first.
        case readingProxyHeader(ByteBuffer)
        /// The bytes after the PROXY header, if there was one.
        case readingClientHello(ByteBuffer)
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

    init(table: RouteTable, proxyProtocol: ProxyProtocolConfiguration? = nil, peer: HostAndPort? = nil) {
        self.table = table
        self.proxyProtocol = proxyProtocol
        self.peer = peer
        let address = peer.flatMap { IPAddress(parsing: $0.host) }
        peerTrusted = address.map { proxyProtocol?.trusts($0) ?? false } ?? false
        state = peerTrusted ? .readingProxyHeader(ByteBuffer()) : .readingClientHello(ByteBuffer())
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
                return readClientHello(buffered)
            case .header(let header):
                proxyHeader = header
                buffered.moveReaderIndex(forwardBy: header.consumedBytes)
                return readClientHello(buffered)
            }
        case .readingClientHello(var buffered):
            state = .modifying
            buffered.writeBuffer(&incoming)
            return readClientHello(buffered)
        default:
            return .none
        }
    }

    /// `buffered`: every byte after the PROXY header (if any) so far.
    private mutating func readClientHello(_ buffered: ByteBuffer) -> Action {
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
            return reject(.notTLS(reason))
        case .clientHello(let hello):
            guard let selection = table.select(hello) else {
                return reject(.noRoute(serverName: hello.serverName, offered: hello.applicationProtocols))
            }
            if case .route(let index) = selection, case .forwardTLS(let target) = table.routes[index].action {
                state = .connectingPassthrough
                return .passThroughTLS(target, replay: buffered)
            }
            state = .handshaking(selection)
            return .terminateTLS(selection, replay: buffered)
        }
    }

    private var peerText: String { peer?.description ?? "an unknown peer" }

    mutating func handshakeCompleted(negotiatedProtocol: String?, peerCertificate: Certificate?) -> Action {
        guard case .handshaking(let selection) = state else { return .none }
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
        case .readingProxyHeader, .readingClientHello, .handshaking:
            return reject(.handshakeTimeout)
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
        return .reject(reason)
    }
}
