import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LocalDBProxy
import NIOCore
import ProxyCore
import ServerALPN
import Testing

/// The local proxy's certificate while it runs: files re-read when they change (open sessions
/// keep theirs), a provider asked near expiry, warnings ahead of expiry, key files others can
/// read refused. The router's routed events carry each connection's certificate serial.
@Suite("Certificate lifecycle", .serialized)
struct CertificateLifecycleTests {
    private struct Files {
        let directory: String
        var certificate: String { directory + "/cert.pem" }
        var key: String { directory + "/key.pem" }
        var ca: String { directory + "/ca.pem" }

        static func make() throws -> Files {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbproxy-certs-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return Files(directory: directory)
        }

        /// Writes a new certificate for trustuser on `service` (new serial) and returns its serial.
        func write(_ pki: TestPKI, service: String, keyMode: Int = 0o600) throws -> String {
            let issued = try Self.issue(pki, service: service)
            // Key first, certificate second, each replaced by rename: a reader never sees half a file.
            try Self.replace(key, with: issued.privateKeyPEM, mode: keyMode)
            try Self.replace(certificate, with: issued.certificatePEM, mode: 0o644)
            try Self.replace(ca, with: pki.hostCA.ca.certificatePEM, mode: 0o644)
            return try CertificateIdentity(pemEncoded: issued.certificatePEM).serialNumber
        }

        static func issue(_ pki: TestPKI, service: String) throws -> IssuedCertificate {
            var request = UserCertificateRequest(
                user: "trustuser",
                route: RouteToDatabase(serviceName: service, protocolName: "postgres", username: "trustuser", database: "appdb"),
                notBefore: Date() - 60, validFor: 3600)
            request.roles = ["dev"]
            return try pki.userCA.issueUser(request)
        }

        static func replace(_ path: String, with contents: String, mode: Int) throws {
            let temporary = path + ".new"
            try contents.write(toFile: temporary, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: temporary)
            guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
    }

    private func startChain() async throws -> ProxyChain {
        try await DevDatabase.requirePostgres()
        return try await ProxyChain.start(databases: [
            DatabaseRoute(name: "pg", databaseProtocol: .postgres,
                          address: HostAndPort(host: DevDatabase.postgresHost, port: DevDatabase.postgresPort)),
        ])
    }

    /// The certificate serials of the first `count` routed connections, in order (waits for them).
    private func serials(_ chain: ProxyChain, count: Int) async throws -> [String?] {
        try await chain.routerEvents.matches(atLeast: count) { event -> String?? in
            if case .routed(let routed) = event { return .some(routed.certificateSerial) }
            return nil
        }
    }

    @Test("the certificate files are replaced during a 200 MiB COPY: the COPY completes on the old certificate, the next connection uses the new one")
    func rotationDuringCopy() async throws {
        let chain = try await startChain()
        let files = try Files.make()
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        let first = try files.write(chain.pki, service: "pg")
        let material = try TLSMaterial.load(certificateFile: files.certificate, keyFile: files.key, caFile: files.ca)
        let (proxy, port, events) = try await chain.localProxy(material, configure: {
            $0.identitySource = .files(certificate: files.certificate, key: files.key, ca: files.ca)
            $0.certificateCheckInterval = .milliseconds(100)
        })
        let conninfo = "host=localhost port=\(port) user=trustuser dbname=appdb"
        let copy = Task.detached {
            try await PGWorkload.run(conninfo, ["copy-in", "--megabytes", "200", "--table", "rotation_copy"])
        }
        _ = try await chain.routerEvents.first { event -> Bool? in
            if case .routed = event { return true }
            return nil
        }
        let second = try files.write(chain.pki, service: "pg")
        #expect(first != second)
        let reloaded = try await events.first { event -> String? in
            if case .certificateReloaded(_, let serial) = event { return serial }
            return nil
        }
        #expect(reloaded == second)
        let result = try await copy.value
        #expect(result.status == 0, "\(result.output)")
        #expect(result.facts["client_digest"] != nil && result.facts["client_digest"] == result.facts["server_digest"])
        // The reload happened while the COPY's connection was open.
        let order = await events.events.compactMap { event -> String? in
            switch event {
            case .certificateReloaded: "reloaded"
            case .connectionClosed: "closed"
            default: nil
            }
        }
        #expect(order.first == "reloaded", "\(order)")
        let next = try await Command.run(["psql", "-X", "-At", conninfo, "-c", "select 1"])
        #expect(next.output == "1\n", "\(next.output)")
        let routedSerials = try await serials(chain, count: 2)
        #expect(routedSerials == [first, second], "\(routedSerials)")
        await proxy.stop()
        await chain.stop()
    }

    @Test("a half-written pair (new certificate, old key) is not used; the current certificate stays until the key arrives")
    func mismatchedPairKeepsCurrent() async throws {
        let chain = try await startChain()
        let files = try Files.make()
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        let first = try files.write(chain.pki, service: "pg")
        let material = try TLSMaterial.load(certificateFile: files.certificate, keyFile: files.key, caFile: files.ca)
        let (proxy, port, events) = try await chain.localProxy(material, configure: {
            $0.identitySource = .files(certificate: files.certificate, key: files.key, ca: files.ca)
            $0.certificateCheckInterval = .milliseconds(50)
        })
        // The new certificate arrives; its key does not yet.
        let issued = try Files.issue(chain.pki, service: "pg")
        let second = try CertificateIdentity(pemEncoded: issued.certificatePEM).serialNumber
        try Files.replace(files.certificate, with: issued.certificatePEM, mode: 0o644)
        try await Task.sleep(for: .milliseconds(300))
        let conninfo = "host=localhost port=\(port) user=trustuser dbname=appdb"
        #expect(try await Command.run(["psql", "-X", "-At", conninfo, "-c", "select 1"]).output == "1\n")
        #expect(try await serials(chain, count: 1) == [first])
        try Files.replace(files.key, with: issued.privateKeyPEM, mode: 0o600)
        let reloaded = try await events.first { event -> String? in
            if case .certificateReloaded(_, let serial) = event { return serial }
            return nil
        }
        #expect(reloaded == second)
        #expect(try await Command.run(["psql", "-X", "-At", conninfo, "-c", "select 1"]).output == "1\n")
        #expect(try await serials(chain, count: 2) == [first, second])
        await proxy.stop()
        await chain.stop()
    }

    @Test("a provider is asked for fresh material once the certificate is within the warning window")
    func provider() async throws {
        let chain = try await startChain()
        let short = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres", validFor: 30)
        let fresh = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres", validFor: 3600)
        let freshSerial = try fresh.identity().serialNumber
        let (proxy, port, events) = try await chain.localProxy(short, configure: {
            $0.identitySource = .provider { fresh }
            $0.certificateCheckInterval = .milliseconds(50)
            $0.expiryWarning = .seconds(60)
        })
        let serial = try await events.first { event -> String? in
            if case .certificateReloaded(_, let serial) = event { return serial }
            return nil
        }
        #expect(serial == freshSerial)
        #expect(proxy.identity.serialNumber == freshSerial)
        let conninfo = "host=localhost port=\(port) user=trustuser dbname=appdb"
        #expect(try await Command.run(["psql", "-X", "-At", conninfo, "-c", "select 1"]).output == "1\n")
        #expect(try await serials(chain, count: 1) == [freshSerial])
        await proxy.stop()
        await chain.stop()
    }

    @Test("expiry ahead: one certificateExpiring event with the time left; expired: one certificateExpired")
    func expiryEvents() async throws {
        let chain = try await startChain()
        let soon = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres", validFor: 300)
        let (proxy, _, events) = try await chain.localProxy(soon, configure: {
            $0.certificateCheckInterval = .milliseconds(50)
            $0.expiryWarning = .seconds(600)
        })
        let remaining = try await events.first { event -> Duration? in
            if case .certificateExpiring(_, let remaining) = event { return remaining }
            return nil
        }
        #expect(remaining > .seconds(200) && remaining <= .seconds(300))
        try await Task.sleep(for: .milliseconds(200))
        let warnings = await events.events.filter { if case .certificateExpiring = $0 { true } else { false } }
        #expect(warnings.count == 1)
        await proxy.stop()

        let expired = try chain.pki.user("trustuser", service: "pg", protocolName: "postgres", notBefore: Date() - 7200, validFor: 3600)
        let (proxy2, _, events2) = try await chain.localProxy(expired, configure: { $0.certificateCheckInterval = .milliseconds(50) })
        _ = try await events2.first { event -> Bool? in if case .certificateExpired = event { true } else { nil } }
        await proxy2.stop()
        await chain.stop()
    }

    @Test("a key file readable by others is refused with the chmod to run")
    func keyPermissions() async throws {
        let chain = try await startChain()
        let files = try Files.make()
        defer { try? FileManager.default.removeItem(atPath: files.directory) }
        _ = try files.write(chain.pki, service: "pg", keyMode: 0o644)
        let material = try TLSMaterial.load(certificateFile: files.certificate, keyFile: files.key, caFile: files.ca)
        #expect {
            _ = try LocalProxy(configuration: {
                var configuration = LocalProxyConfiguration(routerHost: "127.0.0.1", routerPort: chain.routerPort, tls: material)
                configuration.identitySource = .files(certificate: files.certificate, key: files.key, ca: files.ca)
                return configuration
            }())
        } throws: { error in
            "\(error)" == "private key \(files.key) is accessible by others (mode 644); run: chmod 600 \(files.key)"
        }
        await chain.stop()
    }
}
