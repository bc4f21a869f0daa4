import Foundation
import NIOCore
import WireMySQL

/// The mariadb client / MariaDB 10.11 captures in Tests/Fixtures/wire/mysql (see the README there).
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // WireMySQLTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/wire/mysql", isDirectory: true)

    /// The bytes of `name` (e.g. `alice.server.bin`).
    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// Every frame of a capture, asserting it ends on a frame boundary.
    static func packets(_ name: String) throws -> [MySQLPacket] {
        var buffer = ByteBuffer(bytes: try bytes(name))
        return try Framing.packets(&buffer)
    }
}

enum Framing {
    /// Decodes frames until `buffer` is empty; throws when bytes are left over.
    static func packets(_ buffer: inout ByteBuffer, maximumPayload: Int = MySQLPacketLimits.maximumFramePayload) throws -> [MySQLPacket] {
        var decoder = MySQLPacketDecoder(maximumPayload: maximumPayload)
        var packets: [MySQLPacket] = []
        while let packet = try decoder.decode(&buffer) {
            packets.append(packet)
        }
        guard buffer.readableBytes == 0 else {
            throw MySQLWireError("\(buffer.readableBytes) bytes left after the last whole frame")
        }
        return packets
    }
}

/// Hex text (whitespace ignored) to bytes, for expectations typed in tests.
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }.map { UInt8(String($0), radix: 16) ?? 0 }
    return stride(from: 0, to: digits.count - 1, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
}

extension Array where Element == UInt8 {
    var hexString: String { map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}

extension ByteBuffer {
    var bytes: [UInt8] { Array(readableBytesView) }
}

/// Writes a codec's payload into a fresh buffer and returns its bytes.
func written(_ write: (inout ByteBuffer) -> Void) -> [UInt8] {
    var buffer = ByteBuffer()
    write(&buffer)
    return buffer.bytes
}
