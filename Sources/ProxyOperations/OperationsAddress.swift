import ProxyCore

/// Where an `OperationsServer` listens: a host name or IP address and a TCP port (0: any free
/// port); parsed from `host:port` or `[v6]:port`.
public typealias OperationsAddress = HostAndPort
