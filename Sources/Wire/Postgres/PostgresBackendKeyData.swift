import NIOCore

/// BackendKeyData (`K`): what a client needs to cancel queries of this session later.
public struct PostgresBackendKeyData: Sendable, Hashable {
    /// The backend's process id.
    public var processID: Int32
    /// The secret key: 4 bytes in protocol 3.0, up to 256 in 3.2.
    public var secretKey: [UInt8]

    /// Creates key data.
    public init(processID: Int32, secretKey: [UInt8]) {
        self.processID = processID
        self.secretKey = secretKey
    }

    /// Parses the body of a `K` message: process id, then a 1- to 256-byte key.
    public init(decodingBody body: ByteBuffer) throws(PostgresWireError) {
        var body = body
        guard let processID = body.readInteger(as: Int32.self) else {
            throw PostgresWireError("BackendKeyData is too short to hold a process id")
        }
        let keyLength = body.readableBytes
        guard keyLength >= 1, keyLength <= PostgresCancelRequest.maximumSecretKeyLength else {
            throw PostgresWireError(
                "BackendKeyData secret key is \(keyLength) bytes; expected 1 to \(PostgresCancelRequest.maximumSecretKeyLength)"
            )
        }
        self.init(processID: processID, secretKey: body.readBytes(length: keyLength) ?? [])
    }

    /// The CancelRequest that cancels this backend's running query.
    public var cancelRequest: PostgresCancelRequest {
        PostgresCancelRequest(processID: processID, secretKey: secretKey)
    }

    /// Writes the whole `K` message.
    public func write(into buffer: inout ByteBuffer) {
        var body = ByteBuffer()
        body.writeInteger(processID)
        body.writeBytes(secretKey)
        PostgresMessage(type: PostgresMessageType.backendKeyData, body: body).write(into: &buffer)
    }
}
