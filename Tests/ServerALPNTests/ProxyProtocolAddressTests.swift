@testable import ServerALPN
import Testing

/// IP addresses and CIDR blocks: what `trusted_cidrs` holds and what peers are checked against.
@Suite("PROXY protocol: addresses and CIDR blocks")
struct ProxyProtocolAddressTests {
    @Test("addresses parse strictly and print canonically", arguments: [
        ("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("::1", "::1"), ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"), ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("fe80::", "fe80::"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
        ("::ffff:10.1.2.3", "::ffff:a01:203"),
    ])
    func parses(text: String, canonical: String) throws {
        #expect(try #require(IPAddress(parsing: text)).description == canonical)
    }

    @Test("malformed addresses are refused", arguments: [
        "", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1.2.3.-4", "1..2.3", " 1.2.3.4", "a.b.c.d",
        ":", ":1", "1:", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "::g", "::+1", "1:2:3:4:5:6:7:8::",
        "::1.2.3", "1.2.3.4::", "::1.2.3.4:5",
    ])
    func refuses(text: String) {
        #expect(IPAddress(parsing: text) == nil)
    }

    @Test("CIDR blocks hold what they should", arguments: [
        ("10.0.0.0/8", "10.255.1.2", true), ("10.0.0.0/8", "11.0.0.0", false), ("0.0.0.0/0", "203.0.113.7", true),
        ("127.0.0.1", "127.0.0.1", true), ("127.0.0.1/32", "127.0.0.2", false), ("192.168.1.128/25", "192.168.1.127", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true), ("2001:db8::/32", "2001:db9::1", false), ("::1/128", "::1", true),
        ("2001:db8:0:0:8000::/65", "2001:db8::8000:0:0:1", true), ("2001:db8:0:0:8000::/65", "2001:db8::7fff:0:0:1", false),
        ("::/0", "::2", true), ("::/0", "10.0.0.1", true),
        // A dual-stack socket shows an IPv4 peer as ::ffff:a.b.c.d; IPv4 blocks hold it.
        ("127.0.0.0/8", "::ffff:127.0.0.1", true), ("::ffff:0:0/96", "10.1.1.1", true), ("10.0.0.0/8", "::1", false),
        ("::1/128", "127.0.0.1", false),
    ])
    func contains(block: String, address: String, expected: Bool) throws {
        let network = try IPNetwork(parsing: block)
        #expect(network.contains(try #require(IPAddress(parsing: address))) == expected)
    }

    @Test("CIDR mistakes are refused with the reason", arguments: [
        ("10.0.0.1/8", "has bits set after the prefix; did you mean 10.0.0.0/8?"),
        ("2001:db8::1/32", "did you mean 2001:db8::/32?"),
        ("10.0.0.0/33", "\"33\" is not a prefix length (0 to 32)"),
        ("::/129", "(0 to 128)"),
        ("10.0.0.0/", "\"\" is not a prefix length"),
        ("10.0.0.0/08", "\"08\" is not a prefix length"),
        ("10.0.0.0/-1", "\"-1\" is not a prefix length"),
        ("localhost/8", "\"localhost\" is not an IPv4 or IPv6 address"),
        ("10.0.0.0/8/8", "is not a prefix length"),
    ])
    func cidrErrors(text: String, reason: String) {
        do {
            let network = try IPNetwork(parsing: text)
            Issue.record("parsed \(text) as \(network)")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }
}
