import FuzzSupport
import NIOCore
import WirePostgres

// PostgreSQL startup packets and message framing. The input is read twice: as a client stream
// (one startup packet, then typed messages) and as a stream of typed messages only.
// Invariants: a decoder consumes exactly what it returns and never more than it was given; a
// decoded packet or message re-encodes to the same bytes and decodes to an equal value; reading
// the stream in several chunks gives the same messages as reading it whole; bodies of `R` and
// `E`/`N` messages that decode survive a round trip.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPostgres(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = fuzzBuffer(start, count)
    checkClientStream(input)
    checkMessageStream(input)
    return 0
}

func checkClientStream(_ input: ByteBuffer) {
    var buffer = input
    let packet: PostgresStartupPacket?
    do {
        packet = try PostgresStartupDecoder.decode(&buffer)
    } catch {
        require(buffer == input, "a failed startup decode consumed bytes")
        return
    }
    guard let packet else {
        require(buffer == input, "needMoreData consumed bytes")
        return
    }
    let consumed = input.readableBytes - buffer.readableBytes
    require(consumed >= PostgresStartupDecoder.minimumLength && consumed <= PostgresStartupDecoder.maximumLength, "startup packet of \(consumed) bytes")
    var encoded = ByteBuffer()
    packet.write(into: &encoded)
    require(encoded == input.getSlice(at: input.readerIndex, length: consumed), "startup packet does not re-encode to its bytes: \(packet)")
    var again = encoded
    let decodedAgain = try? PostgresStartupDecoder.decode(&again)
    require(decodedAgain == packet && again.readableBytes == 0, "startup packet round trip differs: \(packet)")
    checkMessageStream(buffer)
}

func checkMessageStream(_ input: ByteBuffer) {
    let whole = decodeMessages(input)
    for message in whole.messages { checkMessage(message) }
    // The same stream in chunks: every message up to the first error or the missing tail.
    var decoder = PostgresMessageDecoder()
    var pending = ByteBuffer()
    var chunked: [PostgresMessage] = []
    var failed = false
    for var chunk in chunks(of: input, at: cutPoints(for: input)) where !failed {
        pending.writeBuffer(&chunk)
        do {
            while let message = try decoder.decode(&pending) { chunked.append(message) }
        } catch {
            failed = true
        }
    }
    require(chunked == whole.messages, "chunked framing gives \(chunked.count) messages, whole \(whole.messages.count)")
    require(failed == whole.failed, "chunked framing fails: \(failed), whole: \(whole.failed)")
}

func decodeMessages(_ input: ByteBuffer) -> (messages: [PostgresMessage], failed: Bool) {
    var decoder = PostgresMessageDecoder()
    var buffer = input
    var messages: [PostgresMessage] = []
    var consumed = 0
    do {
        while let message = try decoder.decode(&buffer) {
            let size = input.readableBytes - buffer.readableBytes - consumed
            require(size == 5 + message.body.readableBytes, "message of \(size) bytes has a body of \(message.body.readableBytes)")
            consumed += size
            messages.append(message)
        }
    } catch {
        require(input.readableBytes - buffer.readableBytes == consumed, "a failed decode consumed bytes")
        return (messages, true)
    }
    require(consumed <= input.readableBytes, "consumed \(consumed) of \(input.readableBytes) bytes")
    return (messages, false)
}

func checkMessage(_ message: PostgresMessage) {
    var encoded = ByteBuffer()
    message.write(into: &encoded)
    var decoder = PostgresMessageDecoder()
    let again = try? decoder.decode(&encoded)
    require(again == message && encoded.readableBytes == 0, "message '\(message.type)' round trip differs")
    switch message.type {
    case PostgresMessageType.authentication:
        guard let request = try? PostgresAuthenticationRequest(decodingBody: message.body) else { return }
        var bytes = ByteBuffer()
        request.write(into: &bytes)
        let reframed = try? decoder.decode(&bytes)
        let back = reframed.flatMap { try? PostgresAuthenticationRequest(decodingBody: $0.body) }
        require(back == request, "authentication request round trip differs: \(request)")
    case PostgresMessageType.errorResponse, PostgresMessageType.noticeResponse:
        guard let response = try? PostgresErrorResponse(decodingBody: message.body) else { return }
        var bytes = ByteBuffer()
        response.write(into: &bytes)
        let reframed = try? decoder.decode(&bytes)
        let back = reframed.flatMap { try? PostgresErrorResponse(decodingBody: $0.body) }
        require(back == response, "error response round trip differs: \(response)")
    default:
        break
    }
}
