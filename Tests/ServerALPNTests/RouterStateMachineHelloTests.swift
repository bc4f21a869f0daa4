import NIOCore
@testable import ServerALPN
import Testing

/// The state machine's first phase: reading the ClientHello and choosing termination or
/// passthrough.
@Suite("RouterConnectionStateMachine: ClientHello")
struct RouterStateMachineHelloTests {
    func machine() -> RouterConnectionStateMachine {
        RouterConnectionStateMachine(table: SampleRoutes.table())
    }

    @Test("a database ClientHello starts TLS termination and replays every byte")
    func databaseHello() throws {
        var machine = machine()
        let golden = try GoldenHello.opensslSNIALPN.buffer()
        let action = try #require(machine.received(golden).terminated)
        #expect(action.selection == .database)
        #expect(action.replay == golden)
    }

    @Test("a ClientHello arriving in pieces is buffered and replayed whole")
    func helloInPieces() throws {
        var machine = machine()
        let bytes = try GoldenHello.pythonSSL.bytes()
        var start = 0
        var final: RouterConnectionStateMachine.Action?
        while start < bytes.count {
            let end = min(bytes.count, start + 100)
            let action = machine.received(ByteBuffer(bytes: bytes[start..<end]))
            if end < bytes.count {
                #expect(action.isNone)
                #expect(machine.isReadingClientHello)
            } else {
                final = action
            }
            start = end
        }
        let action = try #require(final?.terminated)
        #expect(action.selection == .database)
        #expect(action.replay == ByteBuffer(bytes: bytes))
    }

    @Test("bytes after the ClientHello in the same read are replayed too")
    func extraBytesReplayed() throws {
        var machine = machine()
        let bytes = try GoldenHello.opensslTLS12.bytes() + [20, 3, 3, 0, 1, 1]
        let action = try #require(machine.received(ByteBuffer(bytes: bytes)).terminated)
        #expect(action.replay.readableBytes == bytes.count)
    }

    @Test("a passthrough route connects to its TLS backend with the ClientHello to replay")
    func passthrough() throws {
        var machine = machine()
        let hello = HelloBuilder(serverName: "kube-teleport-proxy-alpn.cluster", protocols: ["h2"]).records()
        let action = try #require(machine.received(ByteBuffer(bytes: hello)).passThrough)
        #expect(action.target == SampleRoutes.kube)
        #expect(action.replay == ByteBuffer(bytes: hello))
    }

    @Test("a forward route terminates TLS with that route's selection")
    func forwardRoute() throws {
        var machine = machine()
        let hello = HelloBuilder(serverName: "proxy.localhost", protocols: ["teleport-proxy-ssh"]).records()
        #expect(try #require(machine.received(ByteBuffer(bytes: hello)).terminated).selection == .route(index: 0))
    }

    @Test("a ClientHello without ALPN is routed as http/1.1", arguments: [GoldenHello.opensslPlain])
    func goldenWithoutALPN(_ golden: GoldenHello) throws {
        var machine = machine()
        #expect(try #require(machine.received(try golden.buffer()).terminated).selection == .route(index: 3))
    }

    @Test("no matching route is refused naming the server name and offered ALPN")
    func noRoute() throws {
        var machine = machine()
        let hello = HelloBuilder(serverName: "x.example", protocols: ["imap", "pop3"]).records()
        let rejection = try #require(machine.received(ByteBuffer(bytes: hello)).rejection)
        #expect(rejection == .noRoute(serverName: "x.example", offered: ["imap", "pop3"]))
        #expect(rejection.description.contains("\"x.example\"") && rejection.description.contains("imap, pop3"))
        #expect(machine.isClosed)
    }

    @Test("non-TLS first bytes are refused", arguments: [
        [UInt8]([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x31]), Array("GET / HTTP/1.1\r\n".utf8),
    ])
    func notTLS(bytes: [UInt8]) throws {
        var machine = machine()
        let action = machine.received(ByteBuffer(bytes: bytes))
        // Zero-led bytes read as a PostgreSQL startup packet are refused with an ErrorResponse first.
        let rejection = try #require(action.rejection ?? action.plainPostgres?.refusal?.1)
        guard case .notTLS = rejection else {
            Issue.record("expected notTLS, got \(rejection)")
            return
        }
        #expect(machine.isClosed)
    }

    @Test("bytes after a rejection are ignored")
    func ignoredAfterClose() throws {
        var machine = machine()
        _ = machine.received(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        #expect(machine.received(try GoldenHello.opensslSNIALPN.buffer()).isNone)
        #expect(machine.isClosed)
    }

    @Test("bytes after the route is chosen are not parsed again")
    func ignoredAfterSelection() throws {
        var machine = machine()
        _ = machine.received(try GoldenHello.opensslSNIALPN.buffer())
        #expect(machine.received(ByteBuffer(string: "more")).isNone)
        #expect(!machine.isClosed)
    }

    @Test("a ClientHello in one-byte records is refused once the buffer passes the bound")
    func bufferBound() throws {
        var machine = machine()
        // Handshake header promising 60000 bytes, then one-byte records: each message byte costs
        // six. 100 records per read keep the machine's re-parse on every read affordable here.
        let header: [UInt8] = [1] + TLSRecords.u24(60_000)
        #expect(machine.received(ByteBuffer(bytes: TLSRecords.reframe(header, fragmentSize: 1))).isNone)
        let read = ByteBuffer(bytes: TLSRecords.reframe(Array(repeating: 0, count: 100), fragmentSize: 1))
        var fed = 4 * 6
        var rejection: RouterRejection?
        while rejection == nil, fed < 200_000 {
            let action = machine.received(read)
            fed += read.readableBytes
            rejection = action.rejection
            if rejection == nil { #expect(action.isNone) }
        }
        guard case .notTLS(let reason) = try #require(rejection) else {
            Issue.record("expected notTLS, got \(String(describing: rejection))")
            return
        }
        #expect(reason.contains("larger than"))
        #expect(fed > ClientHelloParser.maximumLength + 4096)
        #expect(fed <= ClientHelloParser.maximumLength + 4096 + read.readableBytes)
    }

    @Test("one-byte records, one per read, are refused at the bound in linear time", .timeLimit(.minutes(1)))
    func bufferBoundOneRecordPerRead() throws {
        var machine = machine()
        let header: [UInt8] = [1] + TLSRecords.u24(60_000)
        #expect(machine.received(ByteBuffer(bytes: TLSRecords.reframe(header, fragmentSize: 1))).isNone)
        let record = ByteBuffer(bytes: TLSRecords.record([0]))
        var reads = 0
        var rejection: RouterRejection?
        while rejection == nil, reads < 40_000 {
            rejection = machine.received(record).rejection
            reads += 1
        }
        #expect(rejection == .notTLS("ClientHello larger than \(ClientHelloParser.maximumLength) bytes"))
        #expect(reads * 6 + 24 > ClientHelloParser.maximumLength + 4096)
        #expect(reads * 6 + 24 <= ClientHelloParser.maximumLength + 4096 + 6)
    }
}
