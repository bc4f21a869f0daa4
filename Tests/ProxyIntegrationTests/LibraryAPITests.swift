import Foundation
import LocalDBProxy
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// The library as an embedding application uses it: start, address, events, stop.
@Suite("Library API")
struct LibraryAPITests {
    @Test("a certificate without a database protocol is refused at construction, not at first use")
    func certificateWithoutProtocol() throws {
        let pki = try TestPKI()
        let material = try pki.user(service: "", protocolName: "")
        #expect(throws: IdentityError.missingDatabaseProtocol) {
            try LocalProxy(configuration: LocalProxyConfiguration(routerHost: "127.0.0.1", routerPort: 1, tls: material))
        }
    }

    @Test("an unknown database protocol is refused with the list of supported ones")
    func unknownProtocol() throws {
        let pki = try TestPKI()
        let material = try pki.user(protocolName: "db2")
        do {
            _ = try LocalProxy(configuration: LocalProxyConfiguration(routerHost: "127.0.0.1", routerPort: 1, tls: material))
            Issue.record("expected an error")
        } catch let error as IdentityError {
            #expect(error.description.contains("\"db2\" is not supported"))
            #expect(error.description.contains("postgres"))
        }
    }

    @Test("the ALPN offer follows the certificate's protocol")
    func offerFollowsCertificate() throws {
        let pki = try TestPKI()
        let mysql = try LocalProxy(configuration: LocalProxyConfiguration(
            routerHost: "127.0.0.1", routerPort: 1, tls: try pki.user(protocolName: "mysql"), mysqlServerVersion: "8.0.32"))
        #expect(mysql.applicationProtocols.map(\.rawValue) == ["teleport-mysql-ping", "teleport-mysql", "teleport-mysql-OC4wLjMy"])
        let cockroach = try LocalProxy(configuration: LocalProxyConfiguration(
            routerHost: "127.0.0.1", routerPort: 1, tls: try pki.user(protocolName: "cockroachdb")))
        #expect(cockroach.applicationProtocols.map(\.rawValue) == ["teleport-postgres-ping", "teleport-postgres"])
    }

    @Test("router unreachable: the client connection is closed and the event says where")
    func routerUnreachable() async throws {
        let pki = try TestPKI()
        let proxy = try LocalProxy(configuration: LocalProxyConfiguration(
            routerHost: "127.0.0.1", routerPort: 1, tls: try pki.user(), serverName: "localhost"))
        let events = EventRecorder<LocalProxyEvent>()
        events.record(proxy.events)
        let port = try await proxy.start().port ?? 0
        _ = try await TestClient.waitForClose(port: port)
        let reason = try await events.first { event -> LocalProxyError? in
            if case .connectionFailed(_, _, let reason) = event { return reason }
            return nil
        }
        guard case .routerUnreachable(let host, let routerPort, _) = reason else { Issue.record("unexpected \(reason)"); return }
        #expect(host == "127.0.0.1" && routerPort == 1)
        await proxy.stop()
    }

    @Test("stop() lets an open tunnel finish, refuses new connections and finishes the event stream")
    func gracefulStop() async throws {
        let chain = try await ProxyChain.start()
        let (proxy, port, events) = try await chain.localProxy(try chain.pki.user())
        // A transfer that is under way while stop() is called still completes.
        async let transfer = TestClient.exchange(port: port, total: 8 * 1024 * 1024)
        _ = try await events.first { event -> Bool? in if case .connectionOpened = event { true } else { nil } }
        async let stopping = proxy.stop(deadline: .now() + .seconds(20))
        let result = try await transfer
        #expect(result.receivedSHA256 == result.sentSHA256)
        #expect(await stopping == 0)
        #expect(proxy.openConnections == 0)
        await #expect(throws: (any Error).self) { _ = try await TestClient.exchange(port: port, total: 1) }
        _ = try await events.first { event -> Bool? in if case .stopped = event { true } else { nil } }
        await chain.stop()
    }

    @Test("a unix socket another proxy listens on is not taken over; stop removes only its own socket")
    func unixSocketInUse() async throws {
        let chain = try await ProxyChain.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-sock-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/db.sock"
        let (first, _, _) = try await chain.localProxy(try chain.pki.user(), unixSocketPath: path)
        await #expect {
            _ = try await chain.localProxy(try chain.pki.user(), unixSocketPath: path)
        } throws: { error in
            "\(error)" == "\(path) is in use: another process listens on it; stop it or choose another path"
        }
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(await first.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: path))
        await chain.stop()
    }

    @Test("two proxies for two databases run side by side in one process")
    func twoInstances() async throws {
        let chain = try await ProxyChain.start()
        let (first, firstPort, _) = try await chain.localProxy(try chain.pki.user("alice"))
        let (second, secondPort, _) = try await chain.localProxy(try chain.pki.user("bob"))
        #expect(firstPort != secondPort)
        for port in [firstPort, secondPort] {
            let result = try await TestClient.exchange(port: port, total: 4096)
            #expect(result.receivedSHA256 == result.sentSHA256)
        }
        await first.stop()
        await second.stop()
        await chain.stop()
    }
}
