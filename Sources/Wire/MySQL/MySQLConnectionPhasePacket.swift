import NIOCore

/// Classifies a server payload during the connection phase by its first byte: 0x00 OK, 0xFF ERR,
/// 0xFE AuthSwitch (or old EOF when the payload is < 9 bytes, classified `other`), 0x01
/// AuthMoreData, else other.
public enum MySQLConnectionPhasePacket: Sendable, Hashable {
    case ok, error, authSwitch, authMoreData, other

    /// Classifies `payload` without consuming it; an empty payload is `other`.
    public init(payload: ByteBuffer) {
        switch payload.readableBytesView.first {
        case 0x00: self = .ok
        case 0xFF: self = .error
        case 0xFE: self = payload.readableBytes < 9 ? .other : .authSwitch
        case 0x01: self = .authMoreData
        default: self = .other
        }
    }
}
