import NIOCore
import ProxyCore
import Testing
import WireMySQL

@testable import ServerALPN

/// `mysql_listen_addr` before TLS: the router's greeting and the judgement of the client's
/// first packet, with the real mariadb client's packets from Tests/Fixtures/wire/mysql.
struct MySQLListenerHandshakeTests {
    /// The real client's SSLRequest (sequence 1, 32 bytes) from the `--ssl` capture.
    private func sslRequest() throws -> [UInt8] { try MySQLGolden.frames("tlsuser-ssl.client")[0] }

    @Test func greetingOffersTLSAndTheNativePluginWithATwentyByteScramble() throws {
        var generator = SystemRandomNumberGenerator()
        let scramble = MySQLListenerHandshake.makeScramble(using: &generator)
        #expect(scramble.count == 20 && scramble.allSatisfy { (0x21...0x7E).contains($0) })
        let framed = MySQLListenerHandshake.greeting(connectionID: 77, scramble: scramble, serverVersion: "8.0.0-dbproxy")
        let packet = try #require(MySQLBytes.packet(framed.bytes))
        #expect(packet.sequenceID == 0)
        let greeting = try MySQLHandshakeV10(decoding: packet.payload)
        #expect(greeting.serverVersion == "8.0.0-dbproxy")
        #expect(greeting.connectionID == 77)
        #expect(greeting.authPluginData == scramble)
        #expect(greeting.authPluginName == "mysql_native_password")
        #expect(greeting.capabilities.contains([.ssl, .protocol41, .secureConnection, .pluginAuth, .deprecateEOF]))
        #expect(!greeting.capabilities.contains(.compress))
        // CLIENT_MYSQL set: a MariaDB client answers without extended capabilities.
        #expect(greeting.capabilities.contains(.longPassword) && greeting.mariaDBExtendedCapabilities == 0)
    }

    @Test func theRealClientsSSLRequestStartsTLS() throws {
        let frame = try sslRequest()
        let packet = try #require(MySQLBytes.packet(frame))
        #expect(MySQLListenerHandshake.decide(packet, trailing: ByteBuffer()) == .startTLS(replay: ByteBuffer()))
    }

    @Test func theClientHelloThatCameWithTheSSLRequestIsReplayedIntoTLS() throws {
        // The client starts its TLS handshake right after the SSLRequest, without an answer.
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table(), listener: .mysql)
        let hello = HelloBuilder(serverName: "localhost").records()
        let action = machine.received(ByteBuffer(bytes: try sslRequest() + hello))
        guard case .mysql(.startTLS(let replay)) = action else {
            Issue.record("unexpected \(action)")
            return
        }
        #expect(replay.bytes == hello)
    }

    @Test func aLoginInPlainTextIsToldTLSIsRequired() throws {
        let packet = try #require(MySQLBytes.packet(try MySQLGolden.response()))
        guard case .refuse(let bytes, let reason) = MySQLListenerHandshake.decide(packet, trailing: ByteBuffer()) else {
            Issue.record("not refused")
            return
        }
        let reply = try #require(MySQLBytes.packet(bytes.bytes))
        #expect(reply.sequenceID == 2)
        let error = try MySQLErrorPacket(decoding: reply.payload)
        #expect(error.code == 3159 && error.sqlState == "HY000")
        #expect(error.message.hasPrefix("dbproxy router: TLS with a client certificate is required on this port (user 'alice' logged in without TLS)."))
        #expect(error.message.contains("--ssl-cert="))
        #expect(reason.kind == "not_tls")
    }

    @Test func aFirstPacketWithTheWrongSequenceIsABadHandshake() throws {
        let packet = try #require(MySQLBytes.packet(MySQLBytes.renumbered(try sslRequest(), 0)))
        guard case .refuse(let bytes, _) = MySQLListenerHandshake.decide(packet, trailing: ByteBuffer()) else {
            Issue.record("not refused")
            return
        }
        let error = try MySQLErrorPacket(decoding: try #require(MySQLBytes.packet(bytes.bytes)).payload)
        #expect(error.code == 1043)
        #expect(error.message.contains("sequence id 0, expected 1"))
    }

    @Test func aTLSClientHelloOrHTTPIsABadHandshakeNamingTheFirstBytes() throws {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table(), listener: .mysql)
        let action = machine.received(ByteBuffer(bytes: Array("GET / HTTP/1.1\r\n\r\n".utf8)))
        guard case .mysql(.refuse(let bytes, let reason)) = action else {
            Issue.record("unexpected \(action)")
            return
        }
        let reply = try #require(MySQLBytes.packet(bytes.bytes))
        let error = try MySQLErrorPacket(decoding: reply.payload)
        #expect(error.code == 1043)
        #expect(error.message.contains("first bytes 47 45 54 20"), "\(error.message)")
        #expect(reason.kind == "not_tls")
    }

    @Test func theMachineWaitsForTheWholeSSLRequestThenHandshakes() throws {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table(), listener: .mysql)
        let frame = try sslRequest()
        guard case .none = machine.received(ByteBuffer(bytes: Array(frame.prefix(10)))) else {
            Issue.record("acted on a partial packet")
            return
        }
        let action = machine.received(ByteBuffer(bytes: Array(frame.dropFirst(10))))
        guard case .mysql(.startTLS(replay: let replay)) = action, replay.readableBytes == 0 else {
            Issue.record("unexpected \(action)")
            return
        }
        guard case .handshaking(.database) = machine.state else {
            Issue.record("state \(machine.state)")
            return
        }
    }

    @Test func aTrustedLoadBalancersProxyHeaderComesBeforeTheSSLRequest() throws {
        var machine = RouterConnectionStateMachine(
            table: SampleRoutes.table(),
            proxyProtocol: ProxyProtocolConfiguration(trustedNetworks: [try IPNetwork(parsing: "10.0.0.0/8")]),
            peer: HostAndPort(host: "10.1.2.3", port: 4000), listener: .mysql)
        let header = Array("PROXY TCP4 203.0.113.7 192.0.2.1 5555 3306\r\n".utf8)
        let action = machine.received(ByteBuffer(bytes: header + (try sslRequest())))
        guard case .mysql(.startTLS(replay: let replay)) = action, replay.readableBytes == 0 else {
            Issue.record("unexpected \(action)")
            return
        }
        #expect(machine.clientAddress == HostAndPort(host: "203.0.113.7", port: 5555))
    }

    @Test func anUntrustedProxyHeaderIsRefused() throws {
        var machine = RouterConnectionStateMachine(
            table: SampleRoutes.table(),
            proxyProtocol: ProxyProtocolConfiguration(trustedNetworks: [try IPNetwork(parsing: "10.0.0.0/8")]),
            peer: HostAndPort(host: "192.0.2.50", port: 4000), listener: .mysql)
        let action = machine.received(ByteBuffer(bytes: Array("PROXY TCP4 203.0.113.7 192.0.2.1 5555 3306\r\n".utf8)))
        guard case .reject(.proxyHeaderUntrusted) = action else {
            Issue.record("unexpected \(action)")
            return
        }
    }

    @Test func onTheMongoListenerAnyClientHelloGoesToTheDatabaseAndPlainBytesAreRefused() throws {
        var machine = RouterConnectionStateMachine(table: SampleRoutes.table(), listener: .mongo)
        let hello = HelloBuilder(serverName: nil).records()
        guard case .terminateTLS(.database, _) = machine.received(ByteBuffer(bytes: hello)) else {
            Issue.record("not terminated as a database connection")
            return
        }
        var plain = RouterConnectionStateMachine(table: SampleRoutes.table(), listener: .mongo)
        // An OP_MSG hello of 256 bytes starts with a zero byte, like a PostgreSQL packet: still refused as not TLS.
        let action = plain.received(ByteBuffer(bytes: [0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00] + Array(repeating: 0, count: 8)))
        guard case .reject(.notTLS(let reason)) = action else {
            Issue.record("unexpected \(action)")
            return
        }
        #expect(reason.hasPrefix("mongo_listen_addr takes TLS from the first byte"), "\(reason)")
    }
}

/// Connection limits on `mysql_listen_addr`: a client refused before its greeting gets the ERR
/// as the router's first packet, as from a MySQL server that is full.
struct MySQLListenerLimitsTests {
    @Test func aRefusedClientGetsERR1040InsteadOfTheGreeting() throws {
        var machine = RouterConnectionStateMachine(
            table: SampleRoutes.table(), peer: HostAndPort(host: "198.51.100.9", port: 40000), listener: .mysql, checksLimits: true)
        guard case .checkLimits(let client) = machine.start() else {
            Issue.record("no limits check at accept")
            return
        }
        #expect(client == HostAndPort(host: "198.51.100.9", port: 40000))
        let reason = RouterRejection.tooManyConnections(client: "198.51.100.9", limit: 2)
        guard case .mysql(.refuse(let bytes, let rejection)) = machine.refusedByLimits(reason) else {
            Issue.record("not refused in the MySQL protocol")
            return
        }
        #expect(rejection == reason)
        let packet = try #require(MySQLBytes.packet(bytes.bytes))
        #expect(packet.sequenceID == 0)
        let error = try MySQLErrorPacket(decoding: packet.payload)
        #expect(error.code == 1040 && error.sqlState == "08004")
        #expect(error.message.hasPrefix("dbproxy router: too many connections from 198.51.100.9"), "\(error.message)")
    }
}
