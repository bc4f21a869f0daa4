import Foundation

/// An HTTP/1.1 response as read off the socket.
struct ProbeResponse: CustomStringConvertible {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var description: String { "\(status) \(body)" }
}

/// Speaks HTTP/1.1 over a raw TCP connection, the way a probe (curl, kubelet, Prometheus) would.
enum HTTPProbe {
    /// Sends `method path` with `extraHeaders` (and `body`) and reads the response to EOF.
    static func request(
        port: Int, _ method: String = "GET", _ path: String, extraHeaders: [(String, String)] = [], body: String = ""
    ) async throws -> ProbeResponse {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: probe\r\n"
        for (name, value) in extraHeaders { text += "\(name): \(value)\r\n" }
        if !body.isEmpty { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        return try parse(try await RawClient.exchange(port: port, sending: Array(text.utf8)))
    }

    static func get(port: Int, _ path: String) async throws -> ProbeResponse {
        try await request(port: port, "GET", path)
    }

    /// Parses a complete response (the server closes after it).
    static func parse(_ bytes: [UInt8]) throws -> ProbeResponse {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw TestTimeout(what: "no complete response head: \(text)") }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let status = Int(statusParts[1]) else {
            throw TestTimeout(what: "bad status line: \(lines.first ?? "")")
        }
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return ProbeResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

/// Reads one sample's value from a Prometheus text exposition, e.g.
/// `sample(text, "dbproxy_local_connections_accepted_total{database=\"pg1\"}")`.
func sample(_ exposition: String, _ series: String) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}
