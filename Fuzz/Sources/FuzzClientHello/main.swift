import FuzzSupport
import NIOCore
import ServerALPN

// The TLS ClientHello reader the router uses to route by SNI and ALPN before TLS starts.
// Invariants: the incremental parser, fed the growing connection read by read, gives at every
// step the result a fresh parser gives for the same bytes; the server name and protocols it
// reports are made of bytes present in the input; the input is not modified.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClientHello(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = fuzzBuffer(start, count)
    let whole = ClientHelloParser.parse(input)
    var parser = ClientHelloParser()
    for end in cutPoints(for: input) + [input.readableBytes] {
        guard let prefix = input.getSlice(at: input.readerIndex, length: end) else { continue }
        let step = parser.parse(prefix)
        let fresh = ClientHelloParser.parse(prefix)
        require(sameOutcome(step, fresh), "incremental result \(step) differs from a fresh parse \(fresh) at \(end) bytes")
        if step != .needMoreData { break }
    }
    if case .clientHello(let hello) = whole {
        let total = (hello.serverName?.unicodeScalars.count ?? 0) + hello.applicationProtocols.reduce(0) { $0 + $1.unicodeScalars.count }
        require(total <= input.readableBytes, "ClientHello reports \(total) bytes of names from \(input.readableBytes)")
        require(hello.applicationProtocols.allSatisfy { !$0.isEmpty }, "an empty ALPN protocol name")
    }
    return 0
}

/// Equal results; two refusals count as equal whatever their reasons.
func sameOutcome(_ a: ClientHelloParser.Result, _ b: ClientHelloParser.Result) -> Bool {
    switch (a, b) {
    case (.invalid, .invalid): return true
    default: return a == b
    }
}
