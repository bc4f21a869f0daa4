import Testing
import WireMongo

@Suite("CRC-32C")
struct CRC32CTests {
    @Test("the Castagnoli check value: CRC-32C(\"123456789\") = 0xE3069283")
    func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test("known vectors from RFC 3720 (iSCSI)")
    func rfc3720() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }
}
