import ServerALPN
import Testing

/// `ServerNamePattern`: exact names and `*.domain` wildcards covering exactly one label.
@Suite("ServerNamePattern")
struct ServerNamePatternTests {
    @Test("an exact name matches itself in any ASCII case and nothing else", arguments: [
        ("grafana.example.com", true), ("GRAFANA.Example.COM", true), ("x.grafana.example.com", false),
        ("grafana.example.co", false), ("example.com", false), ("", false),
    ])
    func exact(name: String, matches: Bool) throws {
        let pattern = try ServerNamePattern(parsing: "Grafana.example.com")
        #expect(!pattern.isWildcard)
        #expect(pattern.matches(name) == matches)
    }

    @Test("a wildcard covers exactly one label in front of its domain", arguments: [
        ("x.apps.example.com", true), ("Grafana-2.APPS.example.com", true), ("a.b.apps.example.com", false),
        ("apps.example.com", false), (".apps.example.com", false), ("xapps.example.com", false), ("x.apps.example.org", false),
    ])
    func wildcard(name: String, matches: Bool) throws {
        let pattern = try ServerNamePattern(parsing: "*.apps.example.com")
        #expect(pattern.isWildcard)
        #expect(pattern.name == "apps.example.com")
        #expect(pattern.matches(name) == matches)
    }

    @Test("descriptions read as written, lowercased")
    func descriptions() throws {
        #expect(try ServerNamePattern(parsing: "*.Apps.Example.com").description == "*.apps.example.com")
        #expect(try ServerNamePattern(parsing: "db_1.example.com").description == "db_1.example.com")
    }

    @Test("malformed patterns are refused with the reason", arguments: [
        ("", "empty"), ("*", "wildcard"), ("*.", "no domain"), ("a.*.example.com", "wildcard"), ("*x.example.com", "wildcard"),
        ("**.example.com", "wildcard"), ("a..example.com", "empty label"), (".example.com", "empty label"), ("example.com.", "empty label"),
        ("grafana example.com", "letters, digits"), ("grafana.example.com:443", "letters, digits"), ("bücher.example", "letters, digits"),
    ])
    func invalid(text: String, reason: String) {
        do {
            let pattern = try ServerNamePattern(parsing: text)
            Issue.record("\"\(text)\" parsed as \(pattern)")
        } catch {
            #expect(error.description.contains(reason), "\(text): \(error.description)")
        }
    }
}
