import Foundation

/// An ALPN protocol name in the router's vocabulary (`teleport-postgres`, `teleport-postgres-ping`,
/// `http/1.1`, ...).
public struct ALPNProtocol: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }
    public static func < (lhs: ALPNProtocol, rhs: ALPNProtocol) -> Bool { lhs.rawValue < rhs.rawValue }

    // MARK: Names

    public static let postgres: ALPNProtocol = "teleport-postgres"
    public static let mysql: ALPNProtocol = "teleport-mysql"
    public static let mongodb: ALPNProtocol = "teleport-mongodb"
    public static let oracle: ALPNProtocol = "teleport-oracle"
    public static let redis: ALPNProtocol = "teleport-redis"
    public static let sqlserver: ALPNProtocol = "teleport-sqlserver"
    public static let snowflake: ALPNProtocol = "teleport-snowflake"
    public static let cassandra: ALPNProtocol = "teleport-cassandra"
    public static let elasticsearch: ALPNProtocol = "teleport-elasticsearch"
    public static let opensearch: ALPNProtocol = "teleport-opensearch"
    public static let dynamodb: ALPNProtocol = "teleport-dynamodb"
    public static let clickhouse: ALPNProtocol = "teleport-clickhouse"
    public static let spanner: ALPNProtocol = "teleport-spanner"
    public static let tcp: ALPNProtocol = "teleport-tcp"
    public static let proxySSH: ALPNProtocol = "teleport-proxy-ssh"
    public static let reverseTunnel: ALPNProtocol = "teleport-reversetunnel"
    public static let http1: ALPNProtocol = "http/1.1"
    public static let http2: ALPNProtocol = "h2"
    public static let acme: ALPNProtocol = "acme-tls/1"

    /// Suffix of the ping-framed variant of a protocol.
    public static let pingSuffix = "-ping"
    /// Prefix of `teleport-mysql-<base64(server version)>`.
    public static let mysqlVersionPrefix = "teleport-mysql-"
    /// Prefix of `teleport-auth@<hex(cluster)>.teleport.cluster.local`.
    public static let authPrefix = "teleport-auth@"
    static let clusterDomainSuffix = ".teleport.cluster.local"
    /// SNI prefix routed to Kubernetes.
    public static let kubeSNIPrefix = "kube-teleport-proxy-alpn."

    /// The database ALPN protocols, in the router's advertisement order.
    public static let databaseProtocols: [ALPNProtocol] = [
        .postgres, .mysql, .mongodb, .oracle, .redis, .sqlserver, .snowflake, .cassandra,
        .elasticsearch, .opensearch, .dynamodb, .clickhouse, .spanner,
    ]

    // MARK: Ping variants

    /// Whether this protocol has a `-ping` variant (the database protocols and `teleport-tcp`).
    public var supportsPing: Bool {
        Self.databaseProtocols.contains(self) || self == .tcp
    }

    /// Whether this is a `-ping` variant.
    public var isPing: Bool { rawValue.hasSuffix(Self.pingSuffix) }

    /// The `-ping` variant of this protocol.
    public var withPing: ALPNProtocol { isPing ? self : ALPNProtocol(rawValue + Self.pingSuffix) }

    /// This protocol without a `-ping` suffix.
    public var withoutPing: ALPNProtocol {
        isPing ? ALPNProtocol(String(rawValue.dropLast(Self.pingSuffix.count))) : self
    }

    /// Whether this protocol is one of the database protocols (ping variant or not).
    public var isDatabase: Bool { Self.databaseProtocols.contains(withoutPing) }

    /// The ping variants of every entry that supports ping, in input order, followed by the
    /// input list; duplicates removed. A server using this order prefers ping framing.
    public static func withPingProtocols(_ protocols: [ALPNProtocol]) -> [ALPNProtocol] {
        let pings = protocols.filter { !$0.isPing && $0.supportsPing }.map(\.withPing)
        var seen = Set<ALPNProtocol>()
        return (pings + protocols).filter { seen.insert($0).inserted }
    }

    /// What a local proxy offers for a database protocol: `[X-ping, X]`, plus
    /// `teleport-mysql-<base64(version)>` when a MySQL server version is known.
    public static func clientOffer(for database: DatabaseProtocol, mysqlServerVersion: String? = nil) -> [ALPNProtocol] {
        var offer = withPingProtocols([database.alpn])
        if database == .mysql, let version = mysqlServerVersion, !version.isEmpty {
            offer.append(.mysqlVersion(version))
        }
        return offer
    }

    // MARK: MySQL server version

    /// `teleport-mysql-` + base64(version), standard alphabet with padding.
    public static func mysqlVersion(_ version: String) -> ALPNProtocol {
        ALPNProtocol(mysqlVersionPrefix + Data(version.utf8).base64EncodedString())
    }

    /// The MySQL server version carried by a `teleport-mysql-<base64>` value; nil for other
    /// values, for `-ping` values, for the bare prefix and for tails that are not base64.
    /// Values are cut to 255 characters before decoding.
    public var mysqlServerVersion: String? {
        guard !isPing, rawValue.hasPrefix(Self.mysqlVersionPrefix) else { return nil }
        let tail = rawValue.prefix(255).dropFirst(Self.mysqlVersionPrefix.count)
        guard !tail.isEmpty, let data = Data(base64Encoded: String(tail)) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// The first MySQL server version found in a client's offer.
    public static func mysqlServerVersion(in offer: [ALPNProtocol]) -> String? {
        offer.lazy.compactMap(\.mysqlServerVersion).first
    }

    // MARK: Auth cluster name

    /// `teleport-auth@` + hex(cluster name) + `.teleport.cluster.local`.
    public static func auth(clusterName: String) -> ALPNProtocol {
        let hex = clusterName.utf8.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
        return ALPNProtocol(authPrefix + hex + clusterDomainSuffix)
    }

    /// The cluster name carried by a `teleport-auth@...` value, or nil when it is not one or
    /// its hex part is malformed.
    public var authClusterName: String? {
        guard rawValue.hasPrefix(Self.authPrefix) else { return nil }
        var hex = Substring(rawValue.dropFirst(Self.authPrefix.count))
        if hex.hasSuffix(Self.clusterDomainSuffix) { hex = hex.dropLast(Self.clusterDomainSuffix.count) }
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for pair in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.hexValue(digits[pair]), let low = Self.hexValue(digits[pair + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    /// The value of one hexadecimal digit (either case); nil for anything else, signs included.
    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
