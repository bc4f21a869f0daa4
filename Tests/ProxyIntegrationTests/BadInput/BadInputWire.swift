import Foundation

/// Hand-made protocol bytes for bad-input tests, and readers for the answers, written here
/// rather than taken from the Wire modules so the tests do not share the proxy's codecs.
enum PGBytes {
    /// A StartupMessage (protocol 3.0) with these parameters, in order.
    static func startup(_ parameters: [(String, String)], version: UInt32 = 196_608) -> [UInt8] {
        var body = be32(version)
        for (name, value) in parameters { body += Array(name.utf8) + [0] + Array(value.utf8) + [0] }
        body += [0]
        return be32(UInt32(body.count + 4)) + body
    }

    /// A packet whose length field says `length` (as a 32-bit two's complement value) whatever
    /// follows; `body` is what follows.
    static func lengthOnly(_ length: Int32, body: [UInt8] = []) -> [UInt8] {
        be32(UInt32(bitPattern: length)) + body
    }

    /// A typed message: `type`, then a length field of `length` (default: the real one), then `body`.
    static func message(_ type: Character, _ body: [UInt8], length: Int32? = nil) -> [UInt8] {
        [type.asciiValue ?? 0] + be32(UInt32(bitPattern: length ?? Int32(body.count + 4))) + body
    }

    /// A simple Query.
    static func query(_ sql: String) -> [UInt8] {
        message("Q", Array(sql.utf8) + [0])
    }

    /// Splits backend messages; a trailing partial message is dropped.
    static func messages(_ bytes: [UInt8]) -> [(type: Character, body: [UInt8])] {
        var result: [(type: Character, body: [UInt8])] = []
        var index = 0
        while index + 5 <= bytes.count {
            let length = Int(readBE32(bytes, index + 1))
            guard length >= 4, index + 1 + length <= bytes.count else { break }
            result.append((Character(UnicodeScalar(bytes[index])), Array(bytes[(index + 5)..<(index + 1 + length)])))
            index += 1 + length
        }
        return result
    }

    /// The fields of the first ErrorResponse in `bytes` (S, V, C, M, D, H ...), or nil.
    static func errorFields(_ bytes: [UInt8]) -> [Character: String]? {
        guard let error = messages(bytes).first(where: { $0.type == "E" }) else { return nil }
        var fields: [Character: String] = [:]
        for field in error.body.split(separator: 0, omittingEmptySubsequences: true) {
            guard let code = field.first else { continue }
            fields[Character(UnicodeScalar(code))] = String(decoding: field.dropFirst(), as: UTF8.self)
        }
        return fields
    }

    /// Message types in order, e.g. "RSSSKZ".
    static func types(_ bytes: [UInt8]) -> String {
        String(messages(bytes).map(\.type))
    }
}

enum MySQLBytes {
    /// One frame: 3-byte little-endian `length` (default: the payload's), sequence id, payload.
    static func frame(_ payload: [UInt8], sequence: UInt8, length: Int? = nil) -> [UInt8] {
        let value = length ?? payload.count
        return [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), sequence] + payload
    }

    /// A HandshakeResponse41 payload for `user` with an empty auth response and
    /// mysql_native_password (a login the server then refuses or asks more of).
    static func handshakeResponse(user: String, database: String = "appdb") -> [UInt8] {
        // CLIENT_LONG_PASSWORD | PROTOCOL_41 | SECURE_CONNECTION | CONNECT_WITH_DB | PLUGIN_AUTH
        let capabilities: UInt32 = 0x1 | 0x200 | 0x8000 | 0x8 | 0x80000
        var payload = le32(capabilities) + le32(16_777_216) + [33] + [UInt8](repeating: 0, count: 23)
        payload += Array(user.utf8) + [0]
        payload += [0]  // auth response length 0
        payload += Array(database.utf8) + [0]
        payload += Array("mysql_native_password".utf8) + [0]
        return payload
    }

    /// Splits frames; a trailing partial frame is dropped.
    static func frames(_ bytes: [UInt8]) -> [(sequence: UInt8, payload: [UInt8])] {
        var result: [(sequence: UInt8, payload: [UInt8])] = []
        var index = 0
        while index + 4 <= bytes.count {
            let length = Int(bytes[index]) | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2]) << 16
            guard index + 4 + length <= bytes.count else { break }
            result.append((bytes[index + 3], Array(bytes[(index + 4)..<(index + 4 + length)])))
            index += 4 + length
        }
        return result
    }

    /// An ERR packet's code, SQL state and message, or nil when `payload` is not one.
    static func error(_ payload: [UInt8]) -> (code: Int, state: String, message: String)? {
        guard payload.count >= 9, payload[0] == 0xFF, payload[3] == UInt8(ascii: "#") else { return nil }
        return (Int(payload[1]) | Int(payload[2]) << 8, String(decoding: payload[4..<9], as: UTF8.self),
                String(decoding: payload[9...], as: UTF8.self))
    }
}

enum MongoBytes {
    static let opMsg: Int32 = 2013

    /// A message: header (length default: the real one) and body.
    static func message(requestID: Int32, opCode: Int32 = opMsg, body: [UInt8], length: Int32? = nil) -> [UInt8] {
        le32(UInt32(bitPattern: length ?? Int32(16 + body.count))) + le32(UInt32(bitPattern: requestID)) + le32(0)
            + le32(UInt32(bitPattern: opCode)) + body
    }

    /// An OP_MSG body: flag bits, one kind-0 section with `{ping: 1, $db: database}`, and a
    /// checksum when given (flag bit 0 set).
    static func pingBody(database: String = "admin", checksum: UInt32? = nil) -> [UInt8] {
        let flags: UInt32 = checksum == nil ? 0 : 1
        return le32(flags) + [0] + document([("ping", .int32(1)), ("$db", .string(database))]) + (checksum.map(le32) ?? [])
    }

    enum Value: Equatable, CustomStringConvertible {
        case double(Double)
        case string(String)
        case int32(Int32)
        case int64(Int64)
        case bool(Bool)
        case other(UInt8)

        var description: String {
            switch self {
            case .double(let value): "\(value)"
            case .string(let value): value
            case .int32(let value): "\(value)"
            case .int64(let value): "\(value)"
            case .bool(let value): "\(value)"
            case .other(let type): "<type \(type)>"
            }
        }
    }

    /// A BSON document of strings and int32s.
    static func document(_ fields: [(String, Value)]) -> [UInt8] {
        var body: [UInt8] = []
        for (name, value) in fields {
            switch value {
            case .int32(let number): body += [0x10] + Array(name.utf8) + [0] + le32(UInt32(bitPattern: number))
            case .string(let text): body += [0x02] + Array(name.utf8) + [0] + le32(UInt32(text.utf8.count + 1)) + Array(text.utf8) + [0]
            default: break
            }
        }
        return le32(UInt32(body.count + 5)) + body + [0]
    }

    /// The first reply in `bytes`: its responseTo and the top-level fields of its OP_MSG
    /// kind-0 document (doubles, strings, int32, int64, booleans), or nil.
    static func reply(_ bytes: [UInt8]) -> (responseTo: Int32, opCode: Int32, fields: [String: Value])? {
        guard bytes.count >= 21 else { return nil }
        let length = Int(readLE32(bytes, 0))
        guard length <= bytes.count, length >= 21 else { return nil }
        let responseTo = Int32(bitPattern: readLE32(bytes, 8))
        let opCode = Int32(bitPattern: readLE32(bytes, 12))
        guard opCode == opMsg, bytes[20] == 0 else { return (responseTo, opCode, [:]) }
        return (responseTo, opCode, fields(Array(bytes[21..<length])))
    }

    private static func fields(_ document: [UInt8]) -> [String: Value] {
        var result: [String: Value] = [:]
        var index = 4
        while index < document.count, document[index] != 0 {
            let type = document[index]
            guard let nameEnd = document[(index + 1)...].firstIndex(of: 0) else { break }
            let name = String(decoding: document[(index + 1)..<nameEnd], as: UTF8.self)
            index = nameEnd + 1
            switch type {
            case 0x01:
                guard index + 8 <= document.count else { return result }
                result[name] = .double(Double(bitPattern: UInt64(readLE32(document, index)) | UInt64(readLE32(document, index + 4)) << 32))
                index += 8
            case 0x02:
                guard index + 4 <= document.count else { return result }
                let count = Int(readLE32(document, index))
                guard count >= 1, index + 4 + count <= document.count else { return result }
                result[name] = .string(String(decoding: document[(index + 4)..<(index + 3 + count)], as: UTF8.self))
                index += 4 + count
            case 0x08:
                guard index < document.count else { return result }
                result[name] = .bool(document[index] != 0)
                index += 1
            case 0x10:
                guard index + 4 <= document.count else { return result }
                result[name] = .int32(Int32(bitPattern: readLE32(document, index)))
                index += 4
            case 0x12:
                guard index + 8 <= document.count else { return result }
                result[name] = .int64(Int64(bitPattern: UInt64(readLE32(document, index)) | UInt64(readLE32(document, index + 4)) << 32))
                index += 8
            default:
                result[name] = .other(type)
                return result
            }
        }
        return result
    }
}

/// A 4-byte ping frame header (big-endian length) and its payload.
enum PingBytes {
    static func frame(_ payload: [UInt8], length: UInt32? = nil) -> [UInt8] {
        be32(length ?? UInt32(payload.count)) + payload
    }

    /// Removes ping framing (pings dropped); a trailing partial frame is kept as it is.
    static func unframe(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index + 4 <= bytes.count {
            let length = Int(readBE32(bytes, index))
            let end = min(bytes.count, index + 4 + length)
            result += bytes[(index + 4)..<end]
            index = end
        }
        return result
    }
}

func be32(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

func le32(_ value: UInt32) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
}

func readBE32(_ bytes: [UInt8], _ index: Int) -> UInt32 {
    UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
}

func readLE32(_ bytes: [UInt8], _ index: Int) -> UInt32 {
    UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
}
