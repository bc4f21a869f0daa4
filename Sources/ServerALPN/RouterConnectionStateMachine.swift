import NIOCore
import ProxyCore
import X509

/// The life of one router connection, free of I/O: it is fed what happens on the socket and
/// answers with what to do next. `RouterConnection` performs the actions.
struct RouterConnectionStateMachine {
    enum State {
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

    private(set) var state: State = .readingClientHello(ByteBuffer())
    private var helloParser = ClientHelloParser()
    let table: RouteTable

    init(table: RouteTable) {
        self.table = table
    }

    mutating func received(_ bytes: ByteBuffer) -> Action {
        guard case .readingClientHello(var buffered) = state else { return .none }
        state = .modifying
        var incoming = bytes
        buffered.writeBuffer(&incoming)
        switch helloParser.parse(buffered) {
        case .needMoreData:
            guard buffered.readableBytes <= ClientHelloParser.maximumLength + 4096 else {
                return reject(.notTLS("ClientHello larger than \(ClientHelloParser.maximumLength) bytes"))
            }
            state = .readingClientHello(buffered)
            return .none
        case .invalid(let reason):
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
        case .readingClientHello, .handshaking:
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
