import Foundation
import NIOCore
import NIOEmbedded
import NIOSSL
import ProxyCore
import Testing
import WireMySQL

@testable import LocalDBProxy

/// TLS between a MySQL client and the local proxy, without sockets, on bytes captured from the
/// mariadb client and MariaDB 10.11 (Tests/Fixtures/wire/mysql).
@Suite("MySQL local TLS session")
struct MySQLLocalTLSSessionTests {
    /// The frames of a capture, each with its 4-byte header.
    private static func frames(_ name: String) throws -> [[UInt8]] {
        var bytes = Array(try Data(contentsOf: Golden.fixtures.appendingPathComponent("mysql/" + name)))[...]
        var frames: [[UInt8]] = []
        while bytes.count >= 4 {
            let start = bytes.startIndex
            let length = Int(bytes[start]) | Int(bytes[start + 1]) << 8 | Int(bytes[start + 2]) << 16
            frames.append(Array(bytes.prefix(4 + length)))
            bytes = bytes.dropFirst(4 + length)
        }
        return frames
    }

    private static func frame(_ payload: [UInt8], sequence: UInt8) -> [UInt8] {
        [UInt8(payload.count & 0xFF), UInt8(payload.count >> 8 & 0xFF), UInt8(payload.count >> 16), sequence] + payload
    }

    /// The greeting as the router sends it: the database's, with CLIENT_SSL cleared.
    private static func routerGreeting() throws -> (frame: [UInt8], greeting: MySQLHandshakeV10) {
        let original = try frames("alice.server.bin")[0]
        var greeting = try MySQLHandshakeV10(decoding: ByteBuffer(bytes: original.dropFirst(4)))
        greeting.capabilities.remove(.ssl)
        var payload = ByteBuffer()
        greeting.write(into: &payload)
        return (frame(Array(payload.readableBytesView), sequence: 0), greeting)
    }

    private static func forwarded(_ actions: [MySQLLocalTLSSession.Action]) -> [UInt8] {
        actions.reduce(into: []) { bytes, action in
            if case .forward(let buffer) = action { bytes += Array(buffer.readableBytesView) }
        }
    }

    /// The client's HandshakeResponse41 as it sends it after a TLS handshake: sequence 2, CLIENT_SSL set.
    private static func responseOverTLS() throws -> (sent: [UInt8], payload: [UInt8]) {
        let payload = Array(try frames("alice.client.bin")[0].dropFirst(4))
        var withSSL = payload
        withSSL[1] |= UInt8(MySQLCapabilities.ssl.rawValue >> 8)
        return (frame(withSSL, sequence: 2), payload)
    }

    @Test("the router's greeting reaches the client with CLIENT_SSL set and nothing else changed")
    func greetingOffersTLS() throws {
        var session = MySQLLocalTLSSession()
        let (frame, greeting) = try Self.routerGreeting()
        let out = Self.forwarded(session.fromRouter(ByteBuffer(bytes: frame)))
        #expect(out[3] == 0)
        var offered = try MySQLHandshakeV10(decoding: ByteBuffer(bytes: out.dropFirst(4)))
        #expect(offered.capabilities.contains(.ssl))
        offered.capabilities.remove(.ssl)
        #expect(offered == greeting)
    }

    @Test("an SSLRequest with the ClientHello behind it in the same read: TLS starts and gets the ClientHello")
    func sslRequestStartsTLS() throws {
        var session = MySQLLocalTLSSession()
        _ = session.fromRouter(ByteBuffer(bytes: try Self.routerGreeting().frame))
        let sslRequest = try Self.frames("tlsuser-ssl.client.bin")[0]
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]
        let actions = session.fromClient(ByteBuffer(bytes: sslRequest + hello))
        #expect(actions == [.startTLS(replay: ByteBuffer(bytes: hello))])
        #expect(session.fromClient(ByteBuffer(bytes: [9, 9])).isEmpty, "nothing goes to the router before the handshake")
    }

    @Test("after the handshake the login is shifted: response 2 -> 1 without CLIENT_SSL, OK 2 -> 3, then nothing changes")
    func loginShifted() throws {
        var session = MySQLLocalTLSSession()
        _ = session.fromRouter(ByteBuffer(bytes: try Self.routerGreeting().frame))
        _ = session.fromClient(ByteBuffer(bytes: try Self.frames("tlsuser-ssl.client.bin")[0]))
        #expect(session.tlsEstablished().isEmpty)
        let (sent, payload) = try Self.responseOverTLS()
        #expect(Self.forwarded(session.fromClient(ByteBuffer(bytes: sent))) == Self.frame(payload, sequence: 1))
        let server = try Self.frames("alice.server.bin")
        let ok = server[1]
        #expect(ok[3] == 2 && ok[4] == 0)
        #expect(!session.isTransparent, "the router's OK is still to be renumbered")
        let toClient = Self.forwarded(session.fromRouter(ByteBuffer(bytes: ok + server[2])))
        #expect(toClient == Self.frame(Array(ok.dropFirst(4)), sequence: 3) + server[2])
        #expect(session.isTransparent)
        let query = try Self.frames("alice.client.bin")[1]
        #expect(Self.forwarded(session.fromClient(ByteBuffer(bytes: query))) == query)
    }

    @Test("bytes held back keep the session in the pipeline until they have gone")
    func transparentOnlyWhenNothingIsHeld() throws {
        var session = MySQLLocalTLSSession()
        #expect(!session.isTransparent)
        // A client that writes before the greeting: its bytes wait for the greeting.
        #expect(session.fromClient(ByteBuffer(bytes: [1, 0, 0, 0, 0x0e])).isEmpty)
        // The database refuses with an ERR in place of the greeting: from here bytes pass as they are.
        var err = ByteBuffer()
        MySQLErrorPacket(code: MySQLErrorCode.tooManyConnections, sqlState: "08004", message: "Too many connections").write(into: &err)
        var frame = ByteBuffer()
        MySQLPacket(sequenceID: 0, payload: err).write(into: &frame)
        #expect(Self.forwarded(session.fromRouter(frame)) == Array(frame.readableBytesView))
        #expect(!session.isTransparent, "the client's early bytes are still held")
        #expect(Self.forwarded(session.fromClient(ByteBuffer(bytes: [7]))) == [1, 0, 0, 0, 0x0e, 7])
        #expect(session.isTransparent)
    }

    @Test("a command sent right behind the response keeps sequence 0")
    func pipelinedCommand() throws {
        var session = MySQLLocalTLSSession()
        _ = session.fromRouter(ByteBuffer(bytes: try Self.routerGreeting().frame))
        _ = session.fromClient(ByteBuffer(bytes: try Self.frames("tlsuser-ssl.client.bin")[0]))
        _ = session.tlsEstablished()
        let (sent, payload) = try Self.responseOverTLS()
        let query = try Self.frames("alice.client.bin")[1]
        let out = Self.forwarded(session.fromClient(ByteBuffer(bytes: sent + query)))
        #expect(out == Self.frame(payload, sequence: 1) + query)
    }

    @Test("a client that answers in plain text passes through unchanged, in every split")
    func plainClient() throws {
        let client = try Self.frames("alice.client.bin").flatMap { $0 }
        let server = try Self.frames("alice.server.bin")
        for cut in 0...client.count {
            var session = MySQLLocalTLSSession()
            _ = session.fromRouter(ByteBuffer(bytes: try Self.routerGreeting().frame))
            let sent = Self.forwarded(session.fromClient(ByteBuffer(bytes: client.prefix(cut))))
                + Self.forwarded(session.fromClient(ByteBuffer(bytes: client.dropFirst(cut))))
            #expect(sent == client, "cut at \(cut)")
            #expect(session.isTransparent, "cut at \(cut)")
            let rest = server.dropFirst().flatMap { $0 }
            #expect(Self.forwarded(session.fromRouter(ByteBuffer(bytes: rest))) == rest)
        }
    }

    @Test("the handler leaves the pipeline once the login is over and then passes bytes unchanged")
    func handlerStepsAside() throws {
        let authority = try DevCertificateAuthority.make(commonName: "local TLS test CA")
        let issued = try authority.issueServer(commonName: "localhost", dnsNames: ["localhost"], ipAddresses: [])
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(try issued.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem)))
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandler(MySQLLocalTLSHandler(tlsContext: try NIOSSLContext(configuration: tls)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 3306)).wait()
        func handlerPresent() -> Bool { (try? channel.pipeline.syncOperations.handler(type: MySQLLocalTLSHandler.self)) != nil }

        try channel.writeOutbound(ByteBuffer(bytes: try Self.routerGreeting().frame))
        let offered = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try MySQLHandshakeV10(decoding: ByteBuffer(bytes: offered.readableBytesView.dropFirst(4))).capabilities.contains(.ssl))
        #expect(handlerPresent(), "the client has not answered yet")

        let client = try Self.frames("alice.client.bin")
        try channel.writeInbound(ByteBuffer(bytes: client[0]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: client[0]))
        #expect(!handlerPresent(), "a plain login needs no renumbering")

        let rest = try Self.frames("alice.server.bin").dropFirst().flatMap { $0 }
        try channel.writeOutbound(ByteBuffer(bytes: rest))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: rest))
        try channel.writeInbound(ByteBuffer(bytes: client[1]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: client[1]))
    }
}
