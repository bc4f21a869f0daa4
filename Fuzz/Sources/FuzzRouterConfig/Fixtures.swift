import Foundation

enum Fixtures {
    /// Tests/Fixtures/certs of this checkout (the build records the source path).
    static let certificates = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fixtures/certs").path
}
