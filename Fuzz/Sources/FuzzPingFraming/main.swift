import FuzzSupport
import NIOCore
import NIOEmbedded
import ProxyCore

// Ping framing (`-ping` ALPN protocols): the parser and the channel handler built on it.
// Invariants: the parser's payload equals a plain reading of the frames whatever the read
// boundaries; it consumes only whole headers and the payload it returns; the handler in a
// pipeline gives the same bytes and counts the same pings; the payload, framed again by the
// handler, reads back equal.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPingFraming(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = fuzzBuffer(start, count)
    let expected = reference(input)
    let cuts = cutPoints(for: input)
    let parsed = parse(chunks(of: input, at: cuts))
    require(parsed.payload == expected.payload, "parser payload differs from the frames (\(parsed.payload.count) vs \(expected.payload.count) bytes)")
    require(parsed.pings == expected.pings, "parser counted \(parsed.pings) pings, the frames hold \(expected.pings)")
    require(parsed.insideFrame == expected.insideFrame, "parser and frames disagree on ending inside a frame")
    let decoded = decodeInPipeline(chunks(of: input, at: cuts))
    require(decoded.payload == expected.payload, "handler payload differs from the parser's")
    require(decoded.pings == expected.pings, "handler counted \(decoded.pings) pings, the frames hold \(expected.pings)")
    require(roundTrip(expected.payload, cuts: cuts) == expected.payload, "framing then reading changes the payload")
    return 0
}

/// Reads the frames the obvious way, over the whole input.
func reference(_ input: ByteBuffer) -> (payload: [UInt8], pings: Int, insideFrame: Bool) {
    let bytes = Array(input.readableBytesView)
    var payload: [UInt8] = []
    var pings = 0
    var index = 0
    while bytes.count - index >= 4 {
        let length = bytes[index..<index + 4].reduce(0) { $0 << 8 | Int($1) }
        index += 4
        if length == 0 { pings += 1; continue }
        let take = min(length, bytes.count - index)
        payload += bytes[index..<index + take]
        index += take
        if take < length { return (payload, pings, true) }
    }
    return (payload, pings, false)
}

func parse(_ reads: [ByteBuffer]) -> (payload: [UInt8], pings: Int, insideFrame: Bool) {
    var parser = PingFrameParser()
    var pending = ByteBuffer()
    var payload: [UInt8] = []
    for var read in reads {
        pending.writeBuffer(&read)
        while true {
            let before = pending.readableBytes
            guard let chunk = parser.nextPayload(from: &pending) else { break }
            require(chunk.readableBytes > 0, "an empty payload run")
            require(before - pending.readableBytes >= chunk.readableBytes, "payload larger than the bytes consumed")
            payload += chunk.readableBytesView
        }
        require(parser.isInsideFrame ? pending.readableBytes == 0 : pending.readableBytes < 4, "parser stopped with \(pending.readableBytes) bytes it could read")
    }
    return (payload, parser.pingsReceived, parser.isInsideFrame)
}

func decodeInPipeline(_ reads: [ByteBuffer]) -> (payload: [UInt8], pings: Int) {
    let handler = PingFramingHandler()
    let channel = EmbeddedChannel(handler: handler)
    var payload: [UInt8] = []
    for read in reads {
        do { try channel.writeInbound(read) } catch { require(false, "handler threw reading \(error)") }
        while let chunk = try? channel.readInbound(as: ByteBuffer.self) { payload += chunk.readableBytesView }
    }
    _ = try? channel.finish()
    while let chunk = try? channel.readInbound(as: ByteBuffer.self) { payload += chunk.readableBytesView }
    return (payload, handler.pingsReceived)
}

func roundTrip(_ payload: [UInt8], cuts: [Int]) -> [UInt8] {
    let channel = EmbeddedChannel(handler: PingFramingHandler())
    var framed = ByteBuffer()
    for piece in chunks(of: ByteBuffer(bytes: payload), at: cuts.filter { $0 < payload.count }) {
        do { try channel.writeOutbound(piece) } catch { require(false, "handler threw writing \(error)") }
    }
    while var out = try? channel.readOutbound(as: ByteBuffer.self) { framed.writeBuffer(&out) }
    _ = try? channel.finish()
    return parse([framed]).payload
}
