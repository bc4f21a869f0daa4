/// Builds synthetic ClientHello messages whose fields can be made to lie.
struct HelloBuilder {
    var serverName: String?
    var protocols: [String] = []
    /// Extensions added after server_name and ALPN: (type, data).
    var extraExtensions: [(UInt16, [UInt8])] = []
    var sessionID: [UInt8] = Array(repeating: 0xab, count: 32)
    var cipherSuites: [UInt8] = [0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f]
    var includeExtensionBlock = true

    func serverNameExtension(_ name: String) -> [UInt8] {
        let host = Array(name.utf8)
        let entry: [UInt8] = [0] + TLSRecords.u16(host.count) + host
        return TLSRecords.u16(entry.count) + entry
    }

    func alpnExtension(_ names: [String]) -> [UInt8] {
        let list = names.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
        return TLSRecords.u16(list.count) + list
    }

    /// The extensions block contents (without its own 2-byte length).
    func extensions() -> [UInt8] {
        var all: [(UInt16, [UInt8])] = []
        if let serverName { all.append((0, serverNameExtension(serverName))) }
        if !protocols.isEmpty { all.append((16, alpnExtension(protocols))) }
        all += extraExtensions
        return all.flatMap { type, data in TLSRecords.u16(Int(type)) + TLSRecords.u16(data.count) + data }
    }

    /// The ClientHello body (after the 4-byte handshake header).
    func body() -> [UInt8] {
        var body: [UInt8] = [0x03, 0x03] + Array(repeating: 0x5a, count: 32)
        body += [UInt8(sessionID.count)] + sessionID
        body += TLSRecords.u16(cipherSuites.count) + cipherSuites
        body += [1, 0]  // one compression method: null
        if includeExtensionBlock {
            let block = extensions()
            body += TLSRecords.u16(block.count) + block
        }
        return body
    }

    /// The handshake message: type 1, 3-byte length, body.
    func message() -> [UInt8] {
        let body = body()
        return [1] + TLSRecords.u24(body.count) + body
    }

    /// The message in one TLS record.
    func records() -> [UInt8] {
        TLSRecords.record(message())
    }
}
