import ProxyCore
import ServerALPN
import Testing

/// `HostAndPort(parsing:)`: `host:port` and `[v6]:port`, nothing else.
@Suite("HostAndPort parsing")
struct HostAndPortTests {
    @Test("valid addresses parse into host and port", arguments: [
        ("127.0.0.1:5432", "127.0.0.1", 5432),
        ("db.internal:3306", "db.internal", 3306),
        ("localhost:0", "localhost", 0),
        ("h:65535", "h", 65535),
        ("[::1]:5432", "::1", 5432),
        ("[fd00::1:2]:443", "fd00::1:2", 443),
        ("proxy.localhost:08080", "proxy.localhost", 8080),
    ])
    func valid(text: String, host: String, port: Int) throws {
        let parsed = try #require(HostAndPort(parsing: text))
        #expect(parsed == HostAndPort(host: host, port: port))
    }

    @Test("description writes IPv6 hosts in brackets and round-trips", arguments: [
        ("127.0.0.1:5432", "127.0.0.1:5432"), ("[::1]:5432", "[::1]:5432"), ("[fd00::1:2]:443", "[fd00::1:2]:443"),
    ])
    func description(text: String, expected: String) throws {
        let parsed = try #require(HostAndPort(parsing: text))
        #expect(parsed.description == expected)
        #expect(HostAndPort(parsing: parsed.description) == parsed)
    }

    @Test("a missing port is refused", arguments: ["localhost", "localhost:", "[::1]", "[::1]:", "127.0.0.1"])
    func missingPort(text: String) {
        #expect(HostAndPort(parsing: text) == nil)
    }

    @Test("a port out of range or not a number is refused", arguments: [
        "h:65536", "h:-1", "h:99999999999999999999", "h:http", "h:80x", "h:8 0", "[::1]:70000",
    ])
    func badPort(text: String) {
        #expect(HostAndPort(parsing: text) == nil)
    }

    @Test("an empty or blank host is refused", arguments: [":5432", "[]:5432", " :5432", "[ ]:5432", "\t:80"])
    func emptyHost(text: String) {
        #expect(HostAndPort(parsing: text) == nil)
    }

    @Test("an IPv6 address without brackets, or junk after the bracket, is refused", arguments: [
        "::1:5432", "fd00::1:443", "[::1]x:80", "[::1:80", "a:b:80", "",
    ])
    func malformed(text: String) {
        #expect(HostAndPort(parsing: text) == nil)
    }

    @Test("a host with whitespace is refused", arguments: ["db host:5432", " db:5432", "db :5432"])
    func whitespace(text: String) {
        #expect(HostAndPort(parsing: text) == nil)
    }

    @Test("an IP literal is dialled directly; a name goes through the resolver", arguments: [
        ("127.0.0.1", true), ("::1", true), ("fd00::1:2", true), ("localhost", false), ("db.internal", false), ("127.0.0", false),
    ])
    func ipSocketAddress(host: String, isLiteral: Bool) throws {
        let address = HostAndPort(host: host, port: 5432).ipSocketAddress
        #expect((address != nil) == isLiteral)
        if let address {
            #expect(address.port == 5432)
            #expect(address.ipAddress == host)
        }
        #expect(HostAndPort(host: host, port: 5432).tlsServerName == (isLiteral ? nil : host))
    }
}
