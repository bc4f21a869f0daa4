import FuzzSupport
import NIOCore
import WireMongo

// MongoDB wire messages: the header decoder and the header-only stream scanner, OP_MSG sections,
// the BSON reader, OP_COMPRESSED (noop, snappy, zlib), OP_QUERY / OP_REPLY and the command
// summary the router logs. Invariants: the decoder consumes exactly messageLength bytes and
// never more than it was given; the scanner fed the stream in chunks agrees with the decoder
// fed it whole; a message re-encodes to its bytes; an OP_MSG that decodes re-encodes to one
// that decodes equal; a decompressed body has the declared size; BSON reads stay in bounds.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMongo(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = fuzzBuffer(start, count)
    let (messages, failed, rest) = decodeAll(input)
    checkScanner(input, messages: messages.count, failed: failed, rest: rest)
    for message in messages { checkMessage(message, depth: 0) }
    // The input as one BSON document, too.
    if let document = try? BSONDocument(validating: input) { walk(document, depth: 0) }
    return 0
}

func decodeAll(_ input: ByteBuffer) -> (messages: [MongoMessage], failed: Bool, rest: Int) {
    var decoder = MongoMessageDecoder()
    var buffer = input
    var messages: [MongoMessage] = []
    do {
        while true {
            let before = buffer.readableBytes
            guard let message = try decoder.decode(buffer: &buffer) else {
                require(buffer.readableBytes == before, "needMoreData consumed bytes")
                break
            }
            require(before - buffer.readableBytes == Int(message.header.messageLength), "consumed bytes differ from messageLength")
            require(message.body.readableBytes + MongoMessageHeader.size == Int(message.header.messageLength), "body size differs from messageLength")
            var encoded = ByteBuffer()
            message.write(into: &encoded)
            require(encoded == input.getSlice(at: input.readerIndex + input.readableBytes - before, length: encoded.readableBytes), "message does not re-encode to its bytes")
            messages.append(message)
        }
    } catch {
        return (messages, true, buffer.readableBytes)
    }
    return (messages, false, buffer.readableBytes)
}

func checkScanner(_ input: ByteBuffer, messages: Int, failed: Bool, rest: Int) {
    var scanner = MongoStreamScanner()
    var headers = 0
    var scannerFailed = false
    for chunk in chunks(of: input, at: cutPoints(for: input)) {
        do {
            headers += try scanner.scan(chunk)
        } catch {
            scannerFailed = true
            break
        }
    }
    require(scannerFailed == failed, "scanner failed: \(scannerFailed), decoder failed: \(failed)")
    if !failed {
        require(headers == messages + (rest >= MongoMessageHeader.size ? 1 : 0), "scanner saw \(headers) headers, decoder \(messages) messages and \(rest) bytes")
        require(scanner.isAtMessageBoundary == (rest == 0), "scanner boundary disagrees with \(rest) bytes left")
    }
}

func checkMessage(_ message: MongoMessage, depth: Int) {
    let limits = MongoMessageLimits()
    _ = try? MongoCommandReader.summary(of: message, limits: limits)
    _ = try? MongoCommandReader.maxMessageSize(inReply: message, limits: limits)
    switch message.header.opCode {
    case .msg:
        guard let decoded = try? MongoOpMsg(decoding: message) else { return }
        walk(decoded.body, depth: 0)
        for sequence in decoded.documentSequences { for document in sequence.documents { walk(document, depth: 0) } }
        let reencoded = decoded.message(requestID: message.header.requestID, responseTo: message.header.responseTo)
        require((try? MongoOpMsg(decoding: reencoded)) == decoded, "OP_MSG round trip differs")
    case .compressed:
        guard let compressed = try? MongoOpCompressed(decoding: message) else { return }
        guard let inner = try? compressed.decompressed(limits: limits) else { return }
        require(inner.body.readableBytes == Int(compressed.uncompressedSize), "decompressed \(inner.body.readableBytes) bytes, declared \(compressed.uncompressedSize)")
        require(inner.header.opCode == compressed.originalOpCode, "decompressed opcode differs")
        require(inner.header.opCode != .compressed, "OP_COMPRESSED inside OP_COMPRESSED")
        if depth == 0 { checkMessage(inner, depth: 1) }
    case .query:
        guard let query = try? MongoOpQuery(decoding: message) else { return }
        if let command = try? query.commandDocument() { walk(command, depth: 0) }
    case .reply:
        guard let reply = try? MongoOpReply(decoding: message) else { return }
        for document in reply.documents { walk(document, depth: 0) }
        let reencoded = reply.message(requestID: message.header.requestID, responseTo: message.header.responseTo)
        require((try? MongoOpReply(decoding: reencoded)) == reply, "OP_REPLY round trip differs")
    default:
        break
    }
}

/// Reads every element of `document` and of the documents and arrays inside it.
func walk(_ document: BSONDocument, depth: Int) {
    guard depth < 64 else { return }
    var reader = document.makeElementReader()
    var total = 0
    while let element = try? reader.next() {
        total += element.value.readableBytes
        require(total <= document.bytes.readableBytes, "elements larger than their document")
        _ = element.stringValue
        _ = element.integerValue
        _ = element.boolValue
        // Nested documents are read as the router reads them: checked element by element.
        if let inner = element.documentValue { walk(inner, depth: depth + 1) }
    }
}
