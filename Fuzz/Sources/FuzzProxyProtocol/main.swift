import FuzzSupport
import NIOCore
import ServerALPN

// PROXY protocol v1/v2 headers, as the router reads them before the ClientHello.
// Invariants: a header takes no more bytes than were given and no more than the version's
// maximum; exactly its own bytes give the same header and any shorter prefix needs more data;
// bytes after it do not change it; every prefix of a stream the parser refuses outright is
// either refused the same way or still waiting; `looksLikeHeader` agrees with the result.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProxyProtocol(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = fuzzBuffer(start, count)
    let result = ProxyProtocolParser.parse(input)
    switch result {
    case .header(let header):
        let used = header.consumedBytes
        require(used > 0 && used <= input.readableBytes, "header of \(used) bytes from \(input.readableBytes)")
        let limit = header.version == .v1 ? ProxyProtocolParser.v1MaximumLength : ProxyProtocolParser.v2MaximumLength
        require(used <= limit, "header of \(used) bytes over the maximum \(limit)")
        if let exact = input.getSlice(at: input.readerIndex, length: used) {
            require(ProxyProtocolParser.parse(exact) == result, "the header's own bytes parse differently")
        }
        if let shorter = input.getSlice(at: input.readerIndex, length: used - 1), used > 1 {
            require(ProxyProtocolParser.parse(shorter) == .needMoreData, "a prefix of a header is not waiting for more")
        }
        if header.command == .local { require(header.clientAddress == nil, "LOCAL header with a client address") }
        if let source = header.source { require((0...65535).contains(source.port), "source port \(source.port)") }
        if let destination = header.destination { require((0...65535).contains(destination.port), "destination port \(destination.port)") }
    case .notProxyProtocol:
        require(!ProxyProtocolParser.looksLikeHeader(input), "looksLikeHeader for a non-header")
    case .needMoreData, .invalid:
        break
    }
    // Reading the stream as it grows: every result before the final one is needMoreData.
    for cut in cutPoints(for: input) {
        guard let prefix = input.getSlice(at: input.readerIndex, length: cut) else { continue }
        let early = ProxyProtocolParser.parse(prefix)
        if early != .needMoreData, case .header = early {
            require(early == result, "a header found early is different at the end")
        }
    }
    return 0
}
