import Foundation

/// GET requests to the health and metrics endpoints of `dbproxy proxy` and `dbproxy serve`.
enum CLIHTTP {
    /// The status code and body of GET `url` (urllib, so an error status is a result, not a failure).
    static func get(_ url: String) async throws -> (status: Int, body: String) {
        let script = """
            import sys, urllib.request, urllib.error
            try:
                with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
                    print(r.status); sys.stdout.write(r.read().decode())
            except urllib.error.HTTPError as e:
                print(e.code); sys.stdout.write(e.read().decode())
            """
        let run = try await CLIProcess.run(["python3", "-c", script, url])
        let lines = run.stdout.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        return (Int(lines.first ?? "") ?? 0, lines.count > 1 ? String(lines[1]) : "")
    }
}
