import Testing
import ProxyCore

/// `teleport-mysql-<base64(version)>` and `teleport-auth@<hex(cluster)>.teleport.cluster.local`.
@Suite struct ALPNEncodingTests {
    // Golden values from `printf 8.0.36 | base64` and `printf 5.7.44-log | base64`.
    @Test(arguments: [
        ("8.0.36", "teleport-mysql-OC4wLjM2"),
        ("5.7.44-log", "teleport-mysql-NS43LjQ0LWxvZw=="),
        ("8.0.36-ü", "teleport-mysql-OC4wLjM2LcO8"),
    ])
    func mysqlVersionEncoding(version: String, alpn: String) {
        #expect(ALPNProtocol.mysqlVersion(version).rawValue == alpn)
        #expect(ALPNProtocol(alpn).mysqlServerVersion == version)
    }

    @Test(arguments: [
        "teleport-mysql-",  // bare prefix
        "teleport-mysql",  // the plain protocol
        "teleport-mysql-ping",  // the ping variant is not a version
        "teleport-mysql-OC4wLjM2-ping",  // nor is anything ending in -ping
        "teleport-mysql-!!!!",  // not base64
        "teleport-mysql-OC4wLjM",  // truncated base64
        "teleport-mysql-/w==",  // base64 of 0xFF, not UTF-8
        "teleport-postgres-OC4wLjM2",  // another protocol
        "teleport-mysqlOC4wLjM2",  // no dash
    ])
    func invalidMySQLVersionIsNil(alpn: String) {
        #expect(ALPNProtocol(alpn).mysqlServerVersion == nil)
    }

    @Test func mysqlVersionIsFoundAnywhereInOffer() {
        let offer: [ALPNProtocol] = ["teleport-mysql-ping", "teleport-mysql-!!", "teleport-mysql", "teleport-mysql-NS43LjQ0LWxvZw=="]
        #expect(ALPNProtocol.mysqlServerVersion(in: offer) == "5.7.44-log")
        #expect(ALPNProtocol.mysqlServerVersion(in: ["teleport-mysql-ping", "teleport-mysql"]) == nil)
    }

    @Test func mysqlVersionIsCutTo255Characters() {
        // 300 characters encode to 400 base64 characters; the first 255 of the ALPN value keep
        // 240 of them, which decode to the first 180 characters of the version.
        let version = String(repeating: "a", count: 300)
        let value = ALPNProtocol.mysqlVersion(version)
        #expect(value.rawValue.count == 15 + 400)
        #expect(value.mysqlServerVersion == String(repeating: "a", count: 180))
    }

    // Golden value from `printf root.example.com | xxd -p`.
    @Test func authClusterEncoding() {
        let value = ALPNProtocol.auth(clusterName: "root.example.com")
        #expect(value.rawValue == "teleport-auth@726f6f742e6578616d706c652e636f6d.teleport.cluster.local")
        #expect(value.authClusterName == "root.example.com")
    }

    @Test(arguments: ["root.example.com", "a", "Ünïcødé-cluster", "cluster with spaces", "UPPER.case"])
    func authClusterRoundTrip(cluster: String) {
        let value = ALPNProtocol.auth(clusterName: cluster)
        #expect(value.rawValue.hasPrefix("teleport-auth@"))
        #expect(value.rawValue.hasSuffix(".teleport.cluster.local"))
        #expect(value.authClusterName == cluster)
    }

    @Test func authHexIsLowercase() {
        #expect(ALPNProtocol.auth(clusterName: "ü\u{7f}").rawValue == "teleport-auth@c3bc7f.teleport.cluster.local")
    }

    @Test func authClusterAcceptsUppercaseHexAndMissingSuffix() {
        #expect(ALPNProtocol("teleport-auth@726F6F74.teleport.cluster.local").authClusterName == "root")
        #expect(ALPNProtocol("teleport-auth@726f6f74").authClusterName == "root")
    }

    @Test(arguments: [
        "teleport-auth@726f6f7.teleport.cluster.local",  // odd length
        "teleport-auth@zz.teleport.cluster.local",  // not hex
        "teleport-auth@72 6f.teleport.cluster.local",  // space
        "teleport-auth@ff.teleport.cluster.local",  // not UTF-8
        "teleport-auth@726f6f74.teleport.cluster.localx",  // suffix does not match, dots are not hex
        "teleport-postgres",
        "teleport-auth",
    ])
    func invalidAuthClusterIsNil(alpn: String) {
        #expect(ALPNProtocol(alpn).authClusterName == nil)
    }

    /// Sign characters are not hex digits: Go's hex.DecodeString (Teleport) rejects them too.
    @Test func authClusterRejectsSignCharacters() {
        #expect(ALPNProtocol("teleport-auth@+1+2.teleport.cluster.local").authClusterName == nil)
        #expect(ALPNProtocol("teleport-auth@726f-0.teleport.cluster.local").authClusterName == nil)
        #expect(ALPNProtocol("teleport-auth@726F6F74.teleport.cluster.local").authClusterName == "root")
    }
}
