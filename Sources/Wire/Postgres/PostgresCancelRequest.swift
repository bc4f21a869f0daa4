import NIOCore

/// A CancelRequest: sent on a new connection in place of a StartupMessage.
public struct PostgresCancelRequest: Sendable, Hashable {
    /// The longest secret key protocol 3.2 allows.
    public static let maximumSecretKeyLength = 256

    /// The backend process to cancel, from BackendKeyData.
    public var processID: Int32
    /// The secret key from BackendKeyData: 4 bytes in protocol 3.0, up to 256 in 3.2.
    public var secretKey: [UInt8]

    /// Creates a CancelRequest.
    public init(processID: Int32, secretKey: [UInt8]) {
        self.processID = processID
        self.secretKey = secretKey
    }

    /// Writes the whole packet: length, request code, process id, secret key.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(Int32(12 + secretKey.count))
        buffer.writeInteger(PostgresRequestCode.cancel)
        buffer.writeInteger(processID)
        buffer.writeBytes(secretKey)
    }
}
