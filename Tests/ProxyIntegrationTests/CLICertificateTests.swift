import Foundation
import Testing

/// `dbproxy proxy` and its certificate files while it runs: renewed files are picked up without
/// a restart, expiry is announced ahead, a key others can read is refused; and a listener other
/// hosts could reach needs --allow-remote.
@Suite("CLI: certificate files and listening address")
struct CLICertificateTests {
    /// `certs issue` into `prefix` for trustuser on pg1, with extra arguments (e.g. --ttl).
    private func issue(_ world: CLIWorld, to prefix: String, _ extra: [String] = []) async throws {
        let issued = try await CLIWorld.run([
            "certs", "issue", "--ca-dir", world.certificates.directory, "--db-name", "appdb", "--out", prefix,
            "--user", "trustuser", "--db-service", "pg1", "--db-protocol", "postgres", "--db-user", "trustuser",
        ] + extra)
        #expect(issued.status == 0, "\(issued.output)")
    }

    private func serial(_ certificate: String) async throws -> String {
        let printed = try await CLIProcess.run(["openssl", "x509", "-noout", "-serial", "-in", certificate])
        return printed.output.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
    }

    @Test("renewed certificate files are used for the next connection without a restart")
    func renewal() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let prefix = world.directory + "/renewed"
        try await issue(world, to: prefix)
        let proxy = try CLIWorld.start([
            "proxy", "--proxy", world.routerAddress, "--cert", prefix + ".pem", "--key", prefix + "-key.pem",
            "--ca", world.certificates.hostCA,
        ])
        defer { proxy.terminate() }
        let port = try #require(CLIWorld.port(inStartupLine: try await proxy.line(containing: "Started authenticated tunnel")))
        let before = try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select 1"])
        #expect(before.output == "1\n", "\(before.output)")
        try await issue(world, to: prefix)
        let renewed = try await serial(prefix + ".pem")
        let reloaded = try await proxy.line(containing: "certificate reloaded", in: .stderr)
        #expect(reloaded.contains("serial=\(renewed)"), "\(reloaded)")
        let after = try await CLIProcess.run(["psql", "postgres://trustuser@localhost:\(port)/appdb", "-X", "-At", "-c", "select 1"])
        #expect(after.output == "1\n", "\(after.output)")
    }

    @Test("a certificate that expires within --expiry-warning is announced at start")
    func expiryWarning() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let prefix = world.directory + "/short"
        try await issue(world, to: prefix, ["--ttl", "5m"])
        let proxy = try CLIWorld.start([
            "proxy", "--proxy", world.routerAddress, "--cert", prefix + ".pem", "--key", prefix + "-key.pem",
            "--ca", world.certificates.hostCA, "--expiry-warning", "10m",
        ])
        defer { proxy.terminate() }
        let warning = try await proxy.line(containing: "certificate expires soon; renew it", in: .stderr)
        #expect(warning.contains("remaining="), "\(warning)")
    }

    @Test("a key file readable by others is refused with the chmod to run")
    func keyPermissions() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let prefix = world.directory + "/open"
        try await issue(world, to: prefix)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: prefix + "-key.pem")
        let run = try await CLIWorld.run([
            "proxy", "--proxy", world.routerAddress, "--cert", prefix + ".pem", "--key", prefix + "-key.pem",
            "--ca", world.certificates.hostCA,
        ])
        #expect(run.status != 0)
        #expect(run.output.contains("is accessible by others (mode 644); run: chmod 600 \(prefix)-key.pem"), "\(run.output)")
    }

    @Test("--listen on an address other hosts reach needs --allow-remote, and then warns")
    func remoteListen() async throws {
        let world = try await CLIWorld.start()
        defer { world.stop() }
        let refused = try await CLIWorld.run(["proxy"] + world.identity(.postgresTrust) + ["--listen", "0.0.0.0"])
        #expect(refused.status != 0)
        #expect(refused.output.contains("add --allow-remote if that is what you want"), "\(refused.output)")
        let proxy = try CLIWorld.start(["proxy"] + world.identity(.postgresTrust) + ["--listen", "0.0.0.0", "--allow-remote"])
        defer { proxy.terminate() }
        _ = try await proxy.line(containing: "anyone who can reach this address reaches the databases with your certificate", in: .stderr)
    }
}
