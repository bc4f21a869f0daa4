import ServerALPN
import Testing

/// Which server keypair a ClientHello's server name chooses.
@Suite("ServerKeypairChooser")
struct ServerKeypairChooserTests {
    func patterns(_ names: String...) throws -> [ServerNamePattern] {
        try names.map { try ServerNamePattern(parsing: $0) }
    }

    @Test("the first keypair serves no name, an empty name and names nobody covers")
    func fallback() throws {
        let chooser = ServerKeypairChooser(names: [try patterns("proxy.example.com"), try patterns("*.apps.example.com")])
        #expect(chooser.index(for: nil) == 0)
        #expect(chooser.index(for: "") == 0)
        #expect(chooser.index(for: "unknown.example.org") == 0)
        #expect(chooser.index(for: "a.b.apps.example.com") == 0)
    }

    @Test("a covered name chooses its keypair")
    func covered() throws {
        let chooser = ServerKeypairChooser(names: [try patterns("proxy.example.com"), try patterns("*.apps.example.com", "grafana.example.com")])
        #expect(chooser.index(for: "proxy.example.com") == 0)
        #expect(chooser.index(for: "x.apps.example.com") == 1)
        #expect(chooser.index(for: "GRAFANA.example.com") == 1)
    }

    @Test("an exact name wins over an earlier keypair's wildcard; among equals the first wins")
    func exactBeforeWildcard() throws {
        let chooser = ServerKeypairChooser(names: [
            try patterns("proxy.example.com"), try patterns("*.example.com"), try patterns("grafana.example.com"), try patterns("grafana.example.com"),
        ])
        #expect(chooser.index(for: "grafana.example.com") == 2)
        #expect(chooser.index(for: "other.example.com") == 1)
    }
}
