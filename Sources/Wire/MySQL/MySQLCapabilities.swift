/// The capability flags exchanged in the greeting and the client's answer (`CLIENT_*`).
public struct MySQLCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// `CLIENT_LONG_PASSWORD`; MariaDB reads a clear bit as "extended capabilities follow" (`CLIENT_MYSQL`).
    public static let longPassword = Self(rawValue: 0x1)
    public static let foundRows = Self(rawValue: 0x2)
    public static let longFlag = Self(rawValue: 0x4)
    public static let connectWithDB = Self(rawValue: 0x8)
    public static let noSchema = Self(rawValue: 0x10)
    public static let compress = Self(rawValue: 0x20)
    public static let odbc = Self(rawValue: 0x40)
    public static let localFiles = Self(rawValue: 0x80)
    public static let ignoreSpace = Self(rawValue: 0x100)
    public static let protocol41 = Self(rawValue: 0x200)
    public static let interactive = Self(rawValue: 0x400)
    public static let ssl = Self(rawValue: 0x800)
    public static let ignoreSigpipe = Self(rawValue: 0x1000)
    public static let transactions = Self(rawValue: 0x2000)
    public static let reserved = Self(rawValue: 0x4000)
    public static let secureConnection = Self(rawValue: 0x8000)
    public static let multiStatements = Self(rawValue: 0x1_0000)
    public static let multiResults = Self(rawValue: 0x2_0000)
    public static let psMultiResults = Self(rawValue: 0x4_0000)
    public static let pluginAuth = Self(rawValue: 0x8_0000)
    public static let connectAttrs = Self(rawValue: 0x10_0000)
    public static let pluginAuthLenencClientData = Self(rawValue: 0x20_0000)
    public static let canHandleExpiredPasswords = Self(rawValue: 0x40_0000)
    public static let sessionTrack = Self(rawValue: 0x80_0000)
    public static let deprecateEOF = Self(rawValue: 0x100_0000)
    public static let optionalResultsetMetadata = Self(rawValue: 0x200_0000)
    public static let zstdCompressionAlgorithm = Self(rawValue: 0x400_0000)
    public static let queryAttributes = Self(rawValue: 0x800_0000)
    public static let multiFactorAuthentication = Self(rawValue: 0x1000_0000)
    /// MySQL's `CLIENT_CAPABILITY_EXTENSION`; MariaDB uses the same bit for `CLIENT_PROGRESS`.
    public static let capabilityExtension = Self(rawValue: 0x2000_0000)
    public static let sslVerifyServerCertificate = Self(rawValue: 0x4000_0000)
    public static let rememberOptions = Self(rawValue: 0x8000_0000)
}
