import NIOCore

/// What the router needs from a TLS ClientHello: the server name and the offered ALPN list.
public struct ClientHello: Sendable, Hashable {
    public var serverName: String?
    public var applicationProtocols: [String]

    public init(serverName: String?, applicationProtocols: [String]) {
        self.serverName = serverName
        self.applicationProtocols = applicationProtocols
    }
}

/// Reads a ClientHello from the first bytes of a connection without consuming them, so they can
/// be replayed to a TLS handler or a TLS backend. Handles a ClientHello split over several TLS
/// records and over several reads; never allocates more than `maximumLength`.
///
/// A parser remembers how far it got, so feeding it the growing buffer of a connection read
/// by read costs time linear in the bytes received, however small the reads or records are.
public struct ClientHelloParser: Sendable {
    /// Upper bound for a ClientHello message (the TLS limit is 2^24; real ones are under 4 KiB).
    public static let maximumLength = 64 * 1024

    public enum Result: Sendable, Hashable {
        case needMoreData
        case clientHello(ClientHello)
        /// The bytes are not a TLS handshake, or the ClientHello is malformed or too large.
        case invalid(String)
    }

    /// Bytes of the connection (from its start) already taken apart into whole records.
    private var consumed = 0
    /// The handshake bytes of those records.
    private var message = ByteBuffer()
    /// 4 + the ClientHello length, once the handshake header has arrived.
    private var expectedLength: Int?

    public init() {}

    /// Parses the readable bytes of `buffer` (which is not modified).
    public static func parse(_ buffer: ByteBuffer) -> Result {
        var parser = ClientHelloParser()
        return parser.parse(buffer)
    }

    /// Continues parsing `received`, every byte of the connection so far: the bytes given to
    /// earlier calls followed by new ones. Only the new records are examined.
    public mutating func parse(_ received: ByteBuffer) -> Result {
        guard received.readableBytes >= consumed,
              var input = received.getSlice(at: received.readerIndex + consumed, length: received.readableBytes - consumed)
        else { return .invalid("ClientHello parser fed inconsistent input") }
        while true {
            guard let header = input.readMultipleIntegers(as: (UInt8, UInt16, UInt16).self) else { return .needMoreData }
            let (contentType, version, recordLength) = header
            guard contentType == 22 else { return .invalid("not a TLS handshake (first byte \(contentType))") }
            guard version >> 8 == 3 else { return .invalid("unsupported TLS record version \(version)") }
            guard recordLength > 0, recordLength <= 16384 + 2048 else { return .invalid("bad TLS record length \(recordLength)") }
            guard var fragment = input.readSlice(length: Int(recordLength)) else { return .needMoreData }
            consumed += 5 + Int(recordLength)
            message.writeBuffer(&fragment)
            if expectedLength == nil, message.readableBytes >= 4 {
                guard let type = message.getInteger(at: message.readerIndex, as: UInt8.self), type == 1 else {
                    return .invalid("first handshake message is not a ClientHello")
                }
                let length = message.getUInt24(at: message.readerIndex + 1)
                guard length <= Self.maximumLength else { return .invalid("ClientHello of \(length) bytes exceeds \(Self.maximumLength)") }
                expectedLength = 4 + length
            }
            if let expected = expectedLength, message.readableBytes >= expected {
                guard var body = message.getSlice(at: message.readerIndex + 4, length: expected - 4) else {
                    return .invalid("truncated ClientHello")
                }
                return Self.parseBody(&body)
            }
            if message.readableBytes > Self.maximumLength + 4 { return .invalid("ClientHello too large") }
        }
    }

    private static func parseBody(_ body: inout ByteBuffer) -> Result {
        guard body.readInteger(as: UInt16.self) != nil,  // legacy_version
              body.readSlice(length: 32) != nil,  // random
              body.readLengthPrefixedSlice(as: UInt8.self) != nil,  // session id
              body.readLengthPrefixedSlice(as: UInt16.self) != nil,  // cipher suites
              body.readLengthPrefixedSlice(as: UInt8.self) != nil  // compression methods
        else { return .invalid("truncated ClientHello") }
        var hello = ClientHello(serverName: nil, applicationProtocols: [])
        guard body.readableBytes > 0 else { return .clientHello(hello) }  // no extensions
        guard var extensions = body.readLengthPrefixedSlice(as: UInt16.self) else { return .invalid("truncated extensions") }
        while extensions.readableBytes > 0 {
            guard let type = extensions.readInteger(as: UInt16.self),
                  var data = extensions.readLengthPrefixedSlice(as: UInt16.self)
            else { return .invalid("truncated extension") }
            switch type {
            case 0:
                guard var list = data.readLengthPrefixedSlice(as: UInt16.self) else { return .invalid("malformed server_name") }
                while list.readableBytes > 0 {
                    guard let nameType = list.readInteger(as: UInt8.self),
                          var name = list.readLengthPrefixedSlice(as: UInt16.self)
                    else { return .invalid("malformed server_name") }
                    if nameType == 0, hello.serverName == nil {
                        hello.serverName = name.readString(length: name.readableBytes)
                    }
                }
            case 16:
                guard var list = data.readLengthPrefixedSlice(as: UInt16.self) else { return .invalid("malformed ALPN extension") }
                while list.readableBytes > 0 {
                    guard var name = list.readLengthPrefixedSlice(as: UInt8.self), name.readableBytes > 0 else {
                        return .invalid("malformed ALPN extension")
                    }
                    hello.applicationProtocols.append(name.readString(length: name.readableBytes) ?? "")
                }
            default:
                continue
            }
        }
        return .clientHello(hello)
    }
}

extension ByteBuffer {
    fileprivate func getUInt24(at index: Int) -> Int {
        guard let high = getInteger(at: index, as: UInt8.self), let low = getInteger(at: index + 1, as: UInt16.self) else { return 0 }
        return Int(high) << 16 | Int(low)
    }
}
