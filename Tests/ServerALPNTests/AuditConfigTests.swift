import Foundation
import ServerALPN
import Testing

/// The `audit:` section of the router YAML.
@Suite("Audit configuration")
struct AuditConfigTests {
    private func load(_ audit: String) throws -> RouterConfiguration {
        let directory = try ConfigDirectory()
        return try RouterConfigFile.load(path: try directory.write("router.yaml", SampleConfig.yaml + audit))
    }

    private func error(_ audit: String) throws -> RouterConfigError? {
        let directory = try ConfigDirectory()
        let path = try directory.write("router.yaml", SampleConfig.yaml + audit)
        do {
            _ = try RouterConfigFile.load(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test("no section: no audit log")
    func absent() throws {
        #expect(try load("").audit == nil)
    }

    @Test("file relative to the config, statements, queue")
    func full() throws {
        let directory = try ConfigDirectory()
        let path = try directory.write("router.yaml", SampleConfig.yaml + "audit: { file: audit.jsonl, statements: true, queue: 500 }\n")
        let audit = try RouterConfigFile.load(path: path).audit
        #expect(audit == AuditConfiguration(destination: .file(directory.file("audit.jsonl")), statements: true, queueCapacity: 500))
    }

    @Test("\"-\" is standard output; defaults: statements off, queue 10000")
    func standardOutput() throws {
        #expect(try load("audit:\n  file: \"-\"\n").audit == AuditConfiguration(destination: .standardOutput, statements: false, queueCapacity: 10_000))
    }

    @Test("errors name the file, the key and the line", arguments: [
        ("audit: { statements: true }\n", "audit.file", "missing"),
        ("audit: { file: /nonexistent-dir/a.jsonl }\n", "audit.file", "does not exist"),
        ("audit: { file: a.jsonl, statements: maybe }\n", "audit.statements", "expected true or false"),
        ("audit: { file: a.jsonl, queue: 0 }\n", "audit.queue", "positive"),
        ("audit: { file: a.jsonl, queue: lots }\n", "audit.queue", "positive"),
        ("audit: { file: a.jsonl, rotate: daily }\n", "audit.rotate", "unknown key"),
        ("audit: [a.jsonl]\n", "audit", "expected a mapping"),
    ])
    func errors(yaml: String, key: String, reason: String) throws {
        let error = try #require(try self.error(yaml))
        #expect(error.key == key)
        #expect(error.reason.contains(reason), "\(error)")
        #expect(error.line == SampleConfig.line(of: "audit", in: SampleConfig.yaml + yaml))
    }
}
