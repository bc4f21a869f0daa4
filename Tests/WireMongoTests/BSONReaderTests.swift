import NIOCore
import Testing
import WireMongo

@Suite("BSON reader and writer")
struct BSONReaderTests {
    typealias S = Synthetic

    static func element(_ type: UInt8, _ key: String, _ value: [UInt8]) -> [UInt8] {
        [type] + S.cString(key) + value
    }

    static func string(_ text: String) -> [UInt8] { S.le32(Int32(text.utf8.count + 1)) + S.cString(text) }

    /// One element of every type, with its value bytes.
    static let everyType: [(BSONType, [UInt8])] = [
        (.double, S.le64(Int64(bitPattern: 2.5.bitPattern))),
        (.string, string("hé")),
        (.document, S.document(element(0x10, "a", S.le32(1)))),
        (.array, S.document(element(0x08, "0", [1]))),
        (.binary, S.le32(3) + [0x80, 1, 2, 3]),
        (.undefined, []),
        (.objectID, [UInt8](repeating: 0xAB, count: 12)),
        (.bool, [1]),
        (.dateTime, S.le64(1_700_000_000_000)),
        (.null, []),
        (.regex, S.cString("^a.*") + S.cString("i")),
        (.dbPointer, string("coll") + [UInt8](repeating: 7, count: 12)),
        (.javaScript, string("function() {}")),
        (.symbol, string("sym")),
        (.javaScriptWithScope, {
            let code = string("x")
            let scope = S.document(element(0x10, "x", S.le32(1)))
            return S.le32(Int32(4 + code.count + scope.count)) + code + scope
        }()),
        (.int32, S.le32(-42)),
        (.timestamp, S.le64(5)),
        (.int64, S.le64(-1)),
        (.decimal128, [UInt8](repeating: 0, count: 16)),
        (.minKey, []),
        (.maxKey, []),
    ]

    static func documentOfEveryType() -> [UInt8] {
        S.document(everyType.enumerated().flatMap { index, entry in element(entry.0.rawValue, "k\(index)", entry.1) })
    }

    @Test("every element type is sized and sliced exactly")
    func everyElementType() throws {
        let document = try BSONDocument(validating: ByteBuffer(bytes: Self.documentOfEveryType()))
        let elements = try document.elements()
        #expect(elements.map(\.type) == Self.everyType.map(\.0))
        #expect(elements.map(\.key) == (0..<Self.everyType.count).map { "k\($0)" })
        for (element, entry) in zip(elements, Self.everyType) {
            #expect(element.value.bytes == entry.1, "\(entry.0)")
        }
        #expect(elements[0].doubleValue == 2.5)
        #expect(elements[1].stringValue == "hé")
        #expect(try elements[2].documentValue?.firstElement()?.int32Value == 1)
        #expect(try elements[3].documentValue?.firstElement()?.boolValue == true)
        #expect(elements[15].int32Value == -42)
        #expect(elements[17].int64Value == -1)
        #expect(elements[15].integerValue == -42)
        #expect(elements[0].integerValue == nil)  // 2.5 is not whole
        #expect(elements[1].int32Value == nil)
    }

    @Test("every strict prefix of a document throws, never crashes")
    func truncatedDocuments() throws {
        let bytes = Self.documentOfEveryType()
        for length in 0..<bytes.count {
            #expect(throws: MongoWireError.self) { try BSONDocument(validating: ByteBuffer(bytes: bytes[..<length])) }
        }
        // Cut inside an element and re-terminated with a matching length: the reader finds the
        // element short. (A cut at an element boundary is a valid, shorter document.)
        var boundaries: Set<Int> = [4]
        var offset = 4
        for (index, entry) in Self.everyType.enumerated() {
            offset += 1 + "k\(index)".utf8.count + 1 + entry.1.count
            boundaries.insert(offset)
        }
        for cut in 5..<bytes.count - 1 where !boundaries.contains(cut) {
            var lying = Array(bytes[..<cut]) + [0]
            lying.replaceSubrange(0..<4, with: S.le32(Int32(lying.count)))
            #expect(throws: MongoWireError.self) {
                _ = try BSONDocument(validating: ByteBuffer(bytes: lying)).elements()
            }
        }
    }

    @Test("a string whose length runs past the document throws truncated")
    func stringPastEnd() throws {
        let bytes = S.document(Self.element(0x02, "s", S.le32(100) + Array("abc".utf8) + [0]))
        let document = try BSONDocument(validating: ByteBuffer(bytes: bytes))
        #expect(throws: MongoWireError.self) { try document.elements() }
        do {
            _ = try document.elements()
        } catch {
            guard case .truncated(let what) = error else { Issue.record("expected truncated, got \(error)"); return }
            #expect(what.contains("'s'"))
        }
    }

    @Test("malformed values throw", arguments: [
        ("string length 0", S.document(element(0x02, "s", S.le32(0)))),
        ("string without NUL", S.document(element(0x02, "s", S.le32(2) + [0x61, 0x62]))),
        ("negative string length", S.document(element(0x02, "s", S.le32(-5) + [0]))),
        ("nested document length 4", S.document(element(0x03, "d", S.le32(4)))),
        ("nested document past end", S.document(element(0x03, "d", S.le32(50) + [0]))),
        ("nested document without NUL", S.document(element(0x03, "d", S.le32(6) + [1, 2]))),
        ("binary negative length", S.document(element(0x05, "b", S.le32(-1) + [0]))),
        ("binary past end", S.document(element(0x05, "b", S.le32(9) + [0, 1]))),
        ("regex without NUL", S.document(element(0x0B, "r", Array("abc".utf8)))),
        ("code with scope too small", S.document(element(0x0F, "c", S.le32(13) + [UInt8](repeating: 0, count: 9)))),
        ("code with scope parts short", S.document(element(0x0F, "c", S.le32(20) + string("x") + S.document([]) + [0, 0, 0, 0, 0]))),
        ("int32 cut", S.document(element(0x10, "i", [1, 2]))),
        ("unknown type 0x14", S.document(element(0x14, "x", []))),
        ("unknown type 0x80", S.document(element(0x80, "x", []))),
        ("key without NUL", S.document([0x10] + Array("key".utf8))),
        ("NUL type before end", S.le32(7) + [0, 0, 0]),
        ("key not UTF-8", S.document(element(0x0A, "\u{FF}", []).map { $0 == 0xC3 ? 0xFF : $0 })),
    ])
    func malformed(name: String, bytes: [UInt8]) {
        #expect(throws: MongoWireError.self, "\(name)") {
            _ = try BSONDocument(validating: ByteBuffer(bytes: bytes)).elements()
        }
    }

    @Test("outer document checks: minimum length, past the buffer, trailing bytes, missing NUL")
    func outerChecks() {
        #expect(throws: MongoWireError.self) { try BSONDocument(validating: ByteBuffer(bytes: S.le32(4) + [0])) }
        #expect(throws: MongoWireError.self) { try BSONDocument(validating: ByteBuffer(bytes: S.le32(-1) + [0])) }
        #expect(throws: MongoWireError.self) { try BSONDocument(validating: ByteBuffer(bytes: S.le32(6) + [0])) }
        #expect(throws: MongoWireError.self) { try BSONDocument(validating: ByteBuffer(bytes: S.le32(5) + [0, 0])) }
        #expect(throws: MongoWireError.self) { try BSONDocument(validating: ByteBuffer(bytes: S.le32(5) + [1])) }
        #expect(throws: MongoWireError.self) { try BSONDocument(validating: ByteBuffer(bytes: [5, 0])) }
        #expect((try? BSONDocument(validating: ByteBuffer(bytes: S.le32(5) + [0])))?.bytes.readableBytes == 5)
    }

    @Test("the writer produces the documented bytes and drops key bytes after a NUL")
    func writer() throws {
        let document = S.document { writer in
            writer.append("ok", double: 0)
            writer.append("errmsg", string: "a\u{0}b")
            writer.append("code", int32: 13)
            writer.append("k\u{0}ey", int32: 1)
        }
        let expected = S.document(
            Self.element(0x01, "ok", [UInt8](repeating: 0, count: 8))
                + Self.element(0x02, "errmsg", S.le32(4) + [0x61, 0, 0x62, 0])
                + Self.element(0x10, "code", S.le32(13))
                + Self.element(0x10, "k", S.le32(1)))
        #expect(document.bytes.bytes == expected)
        let elements = try BSONDocument(validating: document.bytes).elements()
        #expect(elements.map(\.key) == ["ok", "errmsg", "code", "k"])
        #expect(elements[1].stringValue == "a\u{0}b")
        #expect(S.document { _ in }.bytes.bytes == [5, 0, 0, 0, 0])
    }
}
