/// Who may put a PROXY protocol header (version 1 or 2) in front of the ClientHello: the load
/// balancers in front of the router. Everyone else is refused if they send one.
public struct ProxyProtocolConfiguration: Sendable, Hashable {
    /// Whether a peer in `trustedNetworks` must send a header.
    public enum HeaderRequirement: String, Sendable, Hashable {
        /// A trusted peer may also connect without a header (load balancer health checks,
        /// clients on the load balancer's network that connect directly); it is then the client.
        case optional
        /// A trusted peer without a header is refused: use it when every connection from those
        /// addresses comes through the load balancer, so a client cannot slip its own header
        /// through should the load balancer ever stop sending one.
        case required
    }

    /// Socket peers whose headers are believed.
    public var trustedNetworks: [IPNetwork]
    public var header: HeaderRequirement

    public init(trustedNetworks: [IPNetwork], header: HeaderRequirement = .optional) {
        self.trustedNetworks = trustedNetworks
        self.header = header
    }

    /// Whether a header from `peer` is believed.
    public func trusts(_ peer: IPAddress) -> Bool {
        trustedNetworks.contains { $0.contains(peer) }
    }
}
