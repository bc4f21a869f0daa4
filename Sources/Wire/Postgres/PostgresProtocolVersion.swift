/// A frontend/backend protocol version as carried in a StartupMessage (major in the high 16 bits).
public struct PostgresProtocolVersion: Sendable, Hashable, CustomStringConvertible {
    /// The major version; 3 for every server since PostgreSQL 7.4.
    public var major: UInt16
    /// The minor version; 0 before PostgreSQL 18, 2 for the 3.2 protocol (longer cancel keys).
    public var minor: UInt16

    /// Creates a version from its two halves.
    public init(major: UInt16, minor: UInt16) {
        self.major = major
        self.minor = minor
    }

    /// Creates a version from the 32-bit code on the wire.
    public init(code: Int32) {
        let bits = UInt32(bitPattern: code)
        self.major = UInt16(truncatingIfNeeded: bits >> 16)
        self.minor = UInt16(truncatingIfNeeded: bits)
    }

    /// The 32-bit code on the wire.
    public var code: Int32 { Int32(bitPattern: UInt32(major) << 16 | UInt32(minor)) }

    /// Protocol 3.0 (196608).
    public static let v3_0 = PostgresProtocolVersion(major: 3, minor: 0)
    /// Protocol 3.2 (196610), PostgreSQL 18.
    public static let v3_2 = PostgresProtocolVersion(major: 3, minor: 2)

    public var description: String { "\(major).\(minor)" }
}
