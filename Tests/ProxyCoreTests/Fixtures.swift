import Foundation

/// Files under Tests/Fixtures/certs (made by make-certs.sh there).
enum Fixtures {
    static let certificatesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ProxyCoreTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/certs")

    static func path(_ name: String) -> String {
        certificatesDirectory.appendingPathComponent(name).path
    }

    static func pem(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }

    /// Parses a date as `openssl x509 -noout -dates` prints it: `Jan  1 00:00:00 2025 GMT`.
    static func opensslDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        return formatter.date(from: collapsed)
    }
}
