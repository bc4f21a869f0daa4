import NIOCore
import Testing
import WirePostgres

/// Request codes, protocol versions, parameters and cancel keys of startup packets.
@Suite("Startup packet contents")
struct StartupPacketTests {
    static func decode(_ bytes: [UInt8]) throws(PostgresWireError) -> PostgresStartupPacket? {
        var buffer = ByteBuffer(bytes: bytes)
        return try PostgresStartupDecoder.decode(&buffer)
    }

    static func error(_ bytes: [UInt8]) -> String? {
        do {
            _ = try decode(bytes)
            return nil
        } catch {
            return error.message
        }
    }

    static let userParameters = Bytes.cString("user") + Bytes.cString("alice") + [0]

    @Test("GSSENCRequest")
    func gssenc() throws {
        #expect(try Self.decode(Bytes.startupPacket(code: 80_877_104, [])) == .gssEncRequest)
    }

    @Test("SSLRequest and GSSENCRequest must be exactly 8 bytes")
    func fixedSize() {
        #expect(Self.error(Bytes.startupPacket(code: 80_877_103, [0, 0, 0, 0]))?.contains("8 bytes") == true)
        #expect(Self.error(Bytes.startupPacket(code: 80_877_104, [0])) != nil)
    }

    @Test("unknown request codes are rejected", arguments: [Int32(80_877_105), 80_877_101, 1234 << 16])
    func unknownCode(code: Int32) {
        #expect(Self.error(Bytes.startupPacket(code: code, Self.userParameters))?.contains("unknown startup request code") == true)
    }

    @Test("protocol majors other than 3 are rejected", arguments: [Int32(2 << 16), 4 << 16, 0])
    func otherMajor(code: Int32) {
        #expect(Self.error(Bytes.startupPacket(code: code, Self.userParameters))?.contains("unsupported frontend protocol") == true)
    }

    @Test("protocol 3.2 (and any 3.x) decodes, keeping the minor version")
    func minorVersions() throws {
        for version in [PostgresProtocolVersion.v3_2, PostgresProtocolVersion(major: 3, minor: 9999)] {
            let packet = try Self.decode(Bytes.startupPacket(code: version.code, Self.userParameters))
            #expect(packet == .startup(PostgresStartupMessage(protocolVersion: version, parameters: [.init(name: "user", value: "alice")])))
        }
        #expect(PostgresProtocolVersion.v3_2.code == 196_610)
        #expect(PostgresProtocolVersion.v3_0.code == 196_608)
        #expect(PostgresProtocolVersion.v3_2.description == "3.2")
    }

    @Test("a message with no parameters at all decodes (the server then asks for a user)")
    func noParameters() throws {
        let packet = try Self.decode(Bytes.startupPacket(code: 196_608, [0]))
        #expect(packet == .startup(PostgresStartupMessage(parameters: [])))
    }

    static let user: [UInt8] = Bytes.cString("user")
    static let alice: [UInt8] = Bytes.cString("alice")
    static let malformedCases: [([UInt8], String)] = {
        var cases: [([UInt8], String)] = []
        cases.append((user + alice, "not terminated"))
        cases.append((Array("user".utf8), "not terminated"))
        cases.append((user + Array("alice".utf8), "no NUL-terminated value"))
        cases.append((user, "no NUL-terminated value"))
        cases.append((user + alice + [0, 0x41], "follow the startup parameter terminator"))
        let twice: [UInt8] = user + Bytes.cString("a") + user + Bytes.cString("b") + [0]
        cases.append((twice, "more than once"))
        cases.append((user + [0xC3, 0x28, 0, 0], "not valid UTF-8"))
        cases.append(([0xFF, 0] + Bytes.cString("x") + [0], "not valid UTF-8"))
        cases.append(([], "not terminated"))
        return cases
    }()

    @Test("malformed parameter lists are rejected with a reason", arguments: malformedCases)
    func malformed(rest: [UInt8], reason: String) {
        let message = Self.error(Bytes.startupPacket(code: 196_608, rest))
        #expect(message?.contains(reason) == true, "got \(message ?? "no error")")
    }

    @Test("UTF-8 parameter values decode")
    func utf8Values() throws {
        let packet = try Self.decode(Bytes.startupPacket(code: 196_608, Bytes.cString("user") + Bytes.cString("zoë") + [0]))
        #expect(packet == .startup(PostgresStartupMessage(parameters: [.init(name: "user", value: "zoë")])))
    }

    @Test("CancelRequest with a 4-byte key (protocol 3.0)")
    func cancelShortKey() throws {
        let packet = try Self.decode(Bytes.startupPacket(code: 80_877_102, Bytes.int32(4242) + [1, 2, 3, 4]))
        #expect(packet == .cancelRequest(PostgresCancelRequest(processID: 4242, secretKey: [1, 2, 3, 4])))
    }

    @Test("CancelRequest with longer keys (protocol 3.2) up to 256 bytes", arguments: [32, 256])
    func cancelLongKey(length: Int) throws {
        let key = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
        let request = PostgresCancelRequest(processID: 7, secretKey: key)
        var buffer = ByteBuffer()
        request.write(into: &buffer)
        #expect(buffer.readableBytes == 12 + length)
        #expect(try PostgresStartupDecoder.decode(&buffer) == .cancelRequest(request))
    }

    @Test("CancelRequest with no key, a cut process id or a 257-byte key is rejected")
    func cancelBadKeys() {
        #expect(Self.error(Bytes.startupPacket(code: 80_877_102, Bytes.int32(1)))?.contains("secret key") == true)
        #expect(Self.error(Bytes.startupPacket(code: 80_877_102, [0, 0]))?.contains("process id") == true)
        #expect(Self.error(Bytes.startupPacket(code: 80_877_102, Bytes.int32(1) + Array(repeating: 9, count: 257))) != nil)
    }

    @Test("subscript reads, replaces in place, appends and removes")
    func subscriptSemantics() {
        var message = PostgresStartupMessage(parameters: [.init(name: "user", value: "a"), .init(name: "database", value: "d")])
        message["user"] = "b"
        message["application_name"] = "x"
        #expect(message.parameters.map(\.name) == ["user", "database", "application_name"])
        #expect(message.user == "b")
        message["database"] = nil
        #expect(message.database == nil)
        #expect(message["nope"] == nil)
    }

    @Test("written packets decode to themselves", arguments: [
        PostgresStartupPacket.sslRequest, .gssEncRequest,
        .cancelRequest(PostgresCancelRequest(processID: -5, secretKey: [9, 9, 9, 9])),
        .startup(PostgresStartupMessage(protocolVersion: .v3_2, parameters: [
            .init(name: "user", value: "alice"), .init(name: "options", value: "-c search_path=x"),
            .init(name: "_pq_.test", value: ""),
        ])),
    ])
    func roundTrip(packet: PostgresStartupPacket) throws {
        var buffer = ByteBuffer()
        packet.write(into: &buffer)
        #expect(Int(buffer.getInteger(at: 0, as: Int32.self) ?? 0) == buffer.readableBytes)
        #expect(try PostgresStartupDecoder.decode(&buffer) == packet)
        #expect(buffer.readableBytes == 0)
    }
}
