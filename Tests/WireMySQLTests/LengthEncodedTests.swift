import NIOCore
import Testing
import WireMySQL

@Suite("Length-encoded integers and strings")
struct LengthEncodedTests {
    static let integerCases: [(UInt64, [UInt8])] = [
        (0, [0]),
        (250, [0xFA]),
        (251, [0xFC, 0xFB, 0x00]),
        (0xFFFF, [0xFC, 0xFF, 0xFF]),
        (0x1_0000, [0xFD, 0x00, 0x00, 0x01]),
        (0xFF_FFFF, [0xFD, 0xFF, 0xFF, 0xFF]),
        (0x100_0000, [0xFE, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]),
        (UInt64.max, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
    ]

    static let truncatedIntegers: [[UInt8]] = [[], [0xFC], [0xFC, 0x01], [0xFD, 0x01, 0x02], [0xFE, 1, 2, 3, 4, 5, 6, 7], [0xFF]]

    static let lyingStrings: [[UInt8]] = [
        [3, 0x61, 0x62], [0xFC, 0x00, 0x01, 0x61], [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x61],
    ]

    @Test("every prefix size writes and reads back", arguments: integerCases)
    func integers(value: UInt64, encoded: [UInt8]) throws {
        var buffer = ByteBuffer()
        buffer.writeMySQLLengthEncodedInteger(value)
        #expect(buffer.bytes == encoded)
        #expect(try buffer.readMySQLLengthEncodedInteger() == value)
        #expect(buffer.readableBytes == 0)
    }

    @Test("0xFB is NULL for integers and strings")
    func null() throws {
        var buffer = ByteBuffer(bytes: [0xFB, 0xFB, 0x01])
        #expect(try buffer.readMySQLLengthEncodedInteger() == nil)
        #expect(try buffer.readMySQLLengthEncodedString() == nil)
        #expect(buffer.bytes == [0x01])
    }

    @Test("truncated integers throw and consume nothing", arguments: truncatedIntegers)
    func truncatedInteger(bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        #expect(throws: MySQLWireError.self) { try buffer.readMySQLLengthEncodedInteger() }
        #expect(buffer.readerIndex == 0)
    }

    @Test("strings of every prefix size round-trip", arguments: [0, 1, 250, 251, 0xFFFF, 0x1_0000])
    func strings(length: Int) throws {
        let string = String(repeating: "é", count: length / 2) + String(repeating: "x", count: length % 2)
        var buffer = ByteBuffer()
        buffer.writeMySQLLengthEncodedString(string)
        #expect(try buffer.readMySQLLengthEncodedString() == string)
        #expect(buffer.readableBytes == 0)
    }

    @Test("a string claiming more bytes than are left throws and consumes nothing", arguments: lyingStrings)
    func lyingStringLength(bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        #expect(throws: MySQLWireError.self) { try buffer.readMySQLLengthEncodedString() }
        #expect(throws: MySQLWireError.self) { try buffer.readMySQLLengthEncodedBytes() }
        #expect(buffer.readerIndex == 0)
    }

    @Test("a string that is not UTF-8 throws and consumes nothing")
    func invalidUTF8() throws {
        var buffer = ByteBuffer(bytes: [2, 0xC3, 0x28])
        #expect(throws: MySQLWireError.self) { try buffer.readMySQLLengthEncodedString() }
        #expect(buffer.readerIndex == 0)
        #expect(try buffer.readMySQLLengthEncodedBytes() == [0xC3, 0x28])
    }
}
