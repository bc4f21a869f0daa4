import FuzzSupport
import ServerALPN

// The router's YAML configuration. Relative file names resolve in Tests/Fixtures/certs, whose
// certificates and key make a complete file possible. Inputs that could name a file outside
// that directory (a value starting with '/', '..', or a backslash escape) are skipped, so no
// device or pipe is ever opened. Invariants: no trap; an error names a line inside the text; a
// configuration that parses has ports in range.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRouterConfig(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard staysInFixtures(bytes), let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    do {
        let configuration = try RouterConfigFile.parse(text, file: "fuzz.yaml", baseDirectory: Fixtures.certificates)
        require((0...65535).contains(configuration.listenAddress.port), "listen port \(configuration.listenAddress.port)")
        for database in configuration.databases {
            require((0...65535).contains(database.address.port), "database port \(database.address.port)")
        }
    } catch {
        require(!error.description.isEmpty, "an error without a description")
        if let line = error.line {
            // YAML breaks lines at CR, LF, CRLF (and NEL, LS, PS): every Character that is a newline.
            let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count
            require(line >= 1 && line <= lines + 1, "error on line \(line) of a \(lines)-line text")
        }
    }
    return 0
}

/// No absolute path (a '/' where a YAML value can start), no parent directory, no escapes.
func staysInFixtures(_ bytes: UnsafeRawBufferPointer) -> Bool {
    let valueStarts = Set(" \t\r\n:'\"[{,-|>?!&*".utf8)
    var previous: UInt8?
    for byte in bytes {
        if byte == UInt8(ascii: "\\") { return false }
        if byte == UInt8(ascii: "/"), previous.map(valueStarts.contains) ?? true { return false }
        if byte == UInt8(ascii: "."), previous == UInt8(ascii: ".") { return false }
        previous = byte
    }
    return true
}
