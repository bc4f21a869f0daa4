import Testing
import WirePostgres

@testable import LocalDBProxy

/// The outcome does not depend on how the client's bytes are cut into reads: the same events,
/// the same bytes upstream (forwarded packet plus what follows it) and to the TLS layer.
@Suite("PostgresLocalPrelude: packets split across reads")
struct PostgresLocalPreludeSplitTests {
    /// A client script: bytes in the clear, then (optionally) bytes after a local handshake.
    struct Script: CustomTestStringConvertible, Sendable {
        var name: String
        var localTLS: Bool
        var plain: [UInt8]
        var encrypted: [UInt8]?
        var testDescription: String { name }

        func run(plainChunks: [[UInt8]], encryptedChunks: [[UInt8]]) -> LocalPreludeDriver {
            var driver = LocalPreludeDriver(localTLS: localTLS)
            driver.feed(plainChunks)
            if encrypted != nil {
                driver.handshakeDone()
                driver.feed(encryptedChunks)
            }
            return driver
        }

        func whole() -> LocalPreludeDriver {
            run(plainChunks: [plain], encryptedChunks: encrypted.map { [$0] } ?? [])
        }
    }

    static func scripts() throws -> [Script] {
        let ssl = try Golden.sslRequest()
        let stream = try Golden.trustuserStream()
        let cancel = try Golden.cancelRequest()
        let hello = try Golden.tls("openssl-sni-alpn.bin")
        return [
            Script(name: "SSLRequest N, startup", localTLS: false, plain: ssl + stream),
            Script(name: "GSSENC N, SSL N, startup", localTLS: false, plain: Packet.gssEncRequest + ssl + stream),
            Script(name: "SSL N, cancel", localTLS: false, plain: ssl + cancel),
            Script(name: "startup only", localTLS: false, plain: stream),
            Script(name: "SSL S, TLS, startup", localTLS: true, plain: ssl, encrypted: stream),
            Script(name: "GSSENC N, SSL S, TLS, cancel", localTLS: true, plain: Packet.gssEncRequest + ssl, encrypted: cancel),
            Script(name: "direct TLS, startup", localTLS: true, plain: hello, encrypted: stream),
            Script(name: "direct TLS refused", localTLS: false, plain: hello),
            Script(name: "SSL twice", localTLS: false, plain: ssl + ssl + stream),
            Script(name: "length too large", localTLS: false, plain: ssl + Packet.int32(20000) + stream),
        ]
    }

    @Test("one byte per read gives the same outcome", arguments: try scripts())
    func oneByteAtATime(script: Script) {
        let expected = script.whole()
        let split = script.run(
            plainChunks: Chunking.oneByteEach(script.plain),
            encryptedChunks: Chunking.oneByteEach(script.encrypted ?? []))
        #expect(split.events == expected.events)
        #expect(split.upstream == expected.upstream)
        #expect(split.toTLS == expected.toTLS)
    }

    @Test("every cut into two reads gives the same outcome", arguments: try scripts())
    func everyCut(script: Script) {
        let expected = script.whole()
        for pieces in Chunking.twoPieces(script.plain) {
            let split = script.run(plainChunks: pieces, encryptedChunks: script.encrypted.map { [$0] } ?? [])
            #expect(split.events == expected.events, "plain cut at \(pieces[0].count)")
            #expect(split.upstream == expected.upstream, "plain cut at \(pieces[0].count)")
            #expect(split.toTLS == expected.toTLS, "plain cut at \(pieces[0].count)")
        }
        guard let encrypted = script.encrypted else { return }
        for pieces in Chunking.twoPieces(encrypted) {
            let split = script.run(plainChunks: [script.plain], encryptedChunks: pieces)
            #expect(split.events == expected.events, "encrypted cut at \(pieces[0].count)")
            #expect(split.upstream == expected.upstream, "encrypted cut at \(pieces[0].count)")
        }
    }

    @Test("the whole-read outcomes are the ones the other suites check")
    func wholeOutcomes() throws {
        let scripts = try Self.scripts()
        #expect(scripts[0].whole().events == [.reply(Expected.answerN), .forward(.startup(Expected.trustuserStartup))])
        #expect(scripts[4].whole().events == [.startTLS(reply: Expected.answerS), .forward(.startup(Expected.trustuserStartup))])
        #expect(scripts[4].whole().upstream == (try Golden.trustuserStream()))
        #expect(scripts[6].whole().toTLS == (try Golden.tls("openssl-sni-alpn.bin")))
        #expect(scripts[7].whole().failure?.sqlState == Expected.protocolViolation)
    }
}
