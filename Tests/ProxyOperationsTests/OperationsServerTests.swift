import Foundation
import NIOCore
import NIOPosix
import ProxyOperations
import Testing

/// The HTTP server through real TCP connections on loopback.
@Suite("Operations HTTP server")
struct OperationsServerTests {
    private static let routes: [String: OperationsRoute] = [
        "/ok": { _ in .text(.ok, "fine\n") },
        "/down": { _ in .text(.serviceUnavailable, "not yet\n") },
        "/slow": { _ in
            try? await Task.sleep(for: .milliseconds(200))
            return .text(.ok, "slow\n")
        },
        "/echo-query": { request in .text(.ok, "path=\(request.path) query=\(request.query ?? "-")\n") },
    ]

    private func withServer(
        limits: OperationsServer.Limits = .init(), _ body: (OperationsServer, Int) async throws -> Void
    ) async throws {
        let server = OperationsServer(address: OperationsAddress(host: "127.0.0.1", port: 0), routes: Self.routes, limits: limits)
        let address = try await server.start()
        do {
            try await body(server, address.port ?? 0)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test("a route's status, content type and body, then Connection: close")
    func routes() async throws {
        try await withServer { _, port in
            let ok = try await HTTPProbe.get(port: port, "/ok")
            #expect(ok.status == 200)
            #expect(ok.body == "fine\n")
            #expect(ok.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(ok.header("Content-Length") == "5")
            #expect(ok.header("Connection") == "close")
            let down = try await HTTPProbe.get(port: port, "/down")
            #expect(down.status == 503)
            #expect(down.body == "not yet\n")
            let slow = try await HTTPProbe.get(port: port, "/slow")
            #expect(slow.status == 200 && slow.body == "slow\n")
        }
    }

    @Test("the query string is not part of the path")
    func query() async throws {
        try await withServer { _, port in
            let response = try await HTTPProbe.get(port: port, "/echo-query?name[]=x&debug=1")
            #expect(response.status == 200)
            #expect(response.body == "path=/echo-query query=name[]=x&debug=1\n")
        }
    }

    @Test("unknown path: 404")
    func notFound() async throws {
        try await withServer { _, port in
            let response = try await HTTPProbe.get(port: port, "/nope")
            #expect(response.status == 404)
            #expect(response.body == "no such endpoint: /nope\n")
        }
    }

    @Test("POST, HEAD, DELETE on a known path: 405 with Allow: GET", arguments: ["POST", "HEAD", "DELETE", "PUT"])
    func methodNotAllowed(method: String) async throws {
        try await withServer { _, port in
            let response = try await HTTPProbe.request(port: port, method, "/ok", body: method == "POST" ? "x=1" : "")
            #expect(response.status == 405, "\(response)")
            #expect(response.header("Allow") == "GET")
        }
    }

    @Test("header fields over 16 KiB: 431 and the connection closes; just under is served")
    func oversizedHeaders() async throws {
        try await withServer { _, port in
            let big = try await HTTPProbe.request(port: port, "GET", "/ok", extraHeaders: [("X-Filler", String(repeating: "a", count: 17 * 1024))])
            #expect(big.status == 431, "\(big)")
            #expect(big.header("Connection") == "close")
            let many = (0..<400).map { ("X-Filler-\($0)", String(repeating: "b", count: 40)) }
            let manyResponse = try await HTTPProbe.request(port: port, "GET", "/ok", extraHeaders: many)
            #expect(manyResponse.status == 431)
            let under = try await HTTPProbe.request(port: port, "GET", "/ok", extraHeaders: [("X-Filler", String(repeating: "a", count: 15 * 1024))])
            #expect(under.status == 200, "\(under)")
        }
    }

    @Test("a request line over the limit: 431")
    func oversizedTarget() async throws {
        try await withServer { _, port in
            let response = try await HTTPProbe.get(port: port, "/ok?" + String(repeating: "q", count: 20 * 1024))
            #expect(response.status == 431)
        }
    }

    @Test("a body over the limit: 413")
    func oversizedBody() async throws {
        try await withServer(limits: .init(maxBodyBytes: 1024)) { _, port in
            let response = try await HTTPProbe.request(port: port, "GET", "/ok", body: String(repeating: "z", count: 4096))
            #expect(response.status == 413, "\(response)")
        }
    }

    @Test("a malformed request: 400")
    func malformed() async throws {
        try await withServer { _, port in
            let bytes = try await RawClient.exchange(port: port, sending: Array("NOT HTTP AT ALL\r\n\r\n".utf8))
            #expect(try HTTPProbe.parse(bytes).status == 400)
        }
    }

    @Test("a request that does not arrive in time: 408 and close")
    func headTimeout() async throws {
        try await withServer(limits: .init(requestTimeout: .milliseconds(200))) { _, port in
            let bytes = try await RawClient.exchange(port: port, sending: Array("GET /ok HTTP/1.1\r\nHost: x\r\n".utf8), timeout: .seconds(5))
            #expect(try HTTPProbe.parse(bytes).status == 408)
            let partBody = "GET /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"
            let afterHead = try await RawClient.exchange(port: port, sending: Array(partBody.utf8), timeout: .seconds(5))
            #expect(try HTTPProbe.parse(afterHead).status == 408)
        }
    }

    @Test("after stop the port no longer accepts; a second start throws")
    func stop() async throws {
        let server = OperationsServer(address: OperationsAddress(host: "127.0.0.1", port: 0), routes: Self.routes)
        let port = try await server.start().port ?? 0
        #expect(try await HTTPProbe.get(port: port, "/ok").status == 200)
        await server.stop()
        await #expect(throws: (any Error).self) { try await HTTPProbe.get(port: port, "/ok") }
        await #expect(throws: OperationsServerError.alreadyStarted) { try await server.start() }
    }

    @Test("listen addresses: host:port and [v6]:port parse; others do not")
    func addresses() {
        #expect(OperationsAddress(parsing: "127.0.0.1:9090") == OperationsAddress(host: "127.0.0.1", port: 9090))
        #expect(OperationsAddress(parsing: "[::1]:0") == OperationsAddress(host: "::1", port: 0))
        #expect(OperationsAddress(parsing: "localhost:65535")?.description == "localhost:65535")
        #expect(OperationsAddress(host: "::1", port: 1).description == "[::1]:1")
        for bad in ["9090", ":9090", "host:", "host:65536", "::1:80", "a b:1", "[::1]9090"] {
            #expect(OperationsAddress(parsing: bad) == nil, "\(bad)")
        }
    }
}

/// The liveness check against event loops that run work and one that is blocked.
@Suite("Event loop liveness")
struct EventLoopLivenessTests {
    @Test("responsive loops: 200 alive; a blocked loop: 503 naming it")
    func liveness() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let route = EventLoopLiveness.route(for: group, timeout: .milliseconds(300))
        let alive = await route(OperationsRequest(path: "/liveness"))
        #expect(alive.status == .ok)
        #expect(String(buffer: alive.body) == "alive\n")
        let blocked = group.next()
        blocked.execute { Thread.sleep(forTimeInterval: 1.5) }
        let stuck = await EventLoopLiveness.unresponsiveLoops(in: group, timeout: .milliseconds(300))
        #expect(stuck == ["\(blocked)"])
        let down = await route(OperationsRequest(path: "/liveness"))
        #expect(down.status == .serviceUnavailable)
        try await group.shutdownGracefully()
    }
}
