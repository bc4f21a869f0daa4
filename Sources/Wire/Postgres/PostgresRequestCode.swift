/// The special request codes that take the place of a protocol version in a startup packet.
public enum PostgresRequestCode {
    /// CancelRequest: 1234 << 16 | 5678.
    public static let cancel: Int32 = 80_877_102
    /// SSLRequest: 1234 << 16 | 5679.
    public static let ssl: Int32 = 80_877_103
    /// GSSENCRequest: 1234 << 16 | 5680.
    public static let gssEncryption: Int32 = 80_877_104
    /// The major half (1234) shared by all special request codes.
    public static let specialMajor: UInt16 = 1234
}
