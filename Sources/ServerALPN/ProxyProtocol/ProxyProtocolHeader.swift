import ProxyCore

/// One end of the connection a PROXY protocol header describes.
public struct ProxyProtocolEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var port: Int

    public init(address: IPAddress, port: Int) {
        self.address = address
        self.port = port
    }

    public var hostAndPort: HostAndPort { HostAndPort(host: address.description, port: port) }

    /// `203.0.113.7:5555`, `[2001:db8::7]:5555`.
    public var description: String { hostAndPort.description }
}

/// A PROXY protocol header (version 1 or 2) read in front of a connection: who the load
/// balancer's client was, and how many bytes the header took.
public struct ProxyProtocolHeader: Sendable, Hashable {
    public enum Version: Int, Sendable, Hashable {
        case v1 = 1
        case v2 = 2
    }

    public enum Command: Sendable, Hashable {
        /// Relayed on behalf of a client: the addresses are the client's connection.
        case proxy
        /// Opened by the proxy itself (a health check): the socket's own endpoints count.
        case local
    }

    /// What was carried, as the header names it.
    public enum Transport: Sendable, Hashable {
        case tcp4, tcp6
        /// Datagram transports: valid in version 2 but meaningless on a stream, so their
        /// addresses are ignored (the specification's fall back to UNSPEC).
        case udp4, udp6
        /// AF_UNIX: accepted with no address.
        case unixStream, unixDatagram
        /// Version 2 AF_UNSPEC (what LOCAL usually carries).
        case unspecified
        /// Version 1 `UNKNOWN`.
        case unknown
    }

    /// A TLV of a version 2 header, kept as read (the router uses none of them).
    public struct TLV: Sendable, Hashable {
        public var type: UInt8
        public var value: [UInt8]

        public init(type: UInt8, value: [UInt8]) {
            self.type = type
            self.value = value
        }
    }

    public var version: Version
    public var command: Command
    public var transport: Transport
    /// The original client; nil when the header carries no usable address (LOCAL, UNKNOWN,
    /// AF_UNSPEC, AF_UNIX, datagrams): the socket's peer is then the client.
    public var source: ProxyProtocolEndpoint?
    /// The address the client connected to (the load balancer's listener), when carried.
    public var destination: ProxyProtocolEndpoint?
    /// Length of the header: the connection's own bytes start after it.
    public var consumedBytes: Int
    public var tlvs: [TLV]

    public init(
        version: Version, command: Command, transport: Transport, source: ProxyProtocolEndpoint?,
        destination: ProxyProtocolEndpoint?, consumedBytes: Int, tlvs: [TLV] = []
    ) {
        self.version = version
        self.command = command
        self.transport = transport
        self.source = source
        self.destination = destination
        self.consumedBytes = consumedBytes
        self.tlvs = tlvs
    }

    /// The address to report as the client: the header's source when it is a relayed TCP
    /// connection, nil when the socket's peer stands.
    public var clientAddress: ProxyProtocolEndpoint? {
        command == .proxy ? source : nil
    }
}
