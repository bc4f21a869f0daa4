import NIOCore
import Testing

@testable import ServerALPN

/// The filter's total output does not depend on where the server's bytes are cut into reads.
@Suite("PostgresAuthenticationFilter: split reads")
struct PostgresAuthenticationFilterSplitTests {
    struct Stream: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var testDescription: String { name }
    }

    static func streams() throws -> [Stream] {
        [
            Stream(name: "SCRAM with PLUS offered", bytes: try PostgresAuthenticationFilterTests.scramWithPlus()),
            Stream(name: "captured SCRAM", bytes: try PGGolden.bytes("alice-scram.server.bin")),
            Stream(name: "captured MD5", bytes: try PGGolden.bytes("md5user.server.bin")),
            Stream(name: "captured wrong password", bytes: try PGGolden.bytes("alice-wrong-password.server.bin")),
            Stream(name: "captured no database", bytes: try PGGolden.bytes("no-database.server.bin")),
        ]
    }

    @Test("one byte per read gives the same output", arguments: try streams())
    func oneByteAtATime(stream: Stream) throws {
        let whole = try PostgresAuthenticationFilterTests.run([stream.bytes])
        let split = try PostgresAuthenticationFilterTests.run(stream.bytes.map { [$0] })
        #expect(whole.finished)
        #expect(split.finished)
        #expect(split.output == whole.output)
    }

    @Test("every cut into two reads gives the same output", arguments: try streams())
    func everyCut(stream: Stream) throws {
        let whole = try PostgresAuthenticationFilterTests.run([stream.bytes])
        for cut in 1..<stream.bytes.count {
            let split = try PostgresAuthenticationFilterTests.run([Array(stream.bytes[..<cut]), Array(stream.bytes[cut...])])
            #expect(split.output == whole.output, "cut at \(cut)")
            #expect(split.finished, "cut at \(cut)")
        }
    }

    @Test("with PLUS offered the output is the captured exchange however it is cut")
    func plusStreamOutput() throws {
        let bytes = try PostgresAuthenticationFilterTests.scramWithPlus()
        let split = try PostgresAuthenticationFilterTests.run(bytes.map { [$0] })
        #expect(split.output == (try PGGolden.bytes("alice-scram.server.bin")))
    }

    @Test("nothing of an unfinished message is passed early")
    func partialMessageHeldBack() throws {
        var filter = PostgresAuthenticationFilter()
        let offer = PostgresAuthenticationFilterTests.saslOffer(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"])
        for byte in offer.dropLast() {
            #expect(try filter.received(ByteBuffer(bytes: [byte])).bytes.isEmpty)
        }
        #expect(try filter.received(ByteBuffer(bytes: [offer.last ?? 0])).bytes == PostgresAuthenticationFilterTests.saslOffer(["SCRAM-SHA-256"]))
    }
}
