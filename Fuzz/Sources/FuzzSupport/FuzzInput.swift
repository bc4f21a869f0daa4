import NIOCore

/// The bytes libFuzzer hands to `LLVMFuzzerTestOneInput`, as a ByteBuffer.
public func fuzzBuffer(_ start: UnsafeRawPointer?, _ count: Int) -> ByteBuffer {
    guard let start, count > 0 else { return ByteBuffer() }
    return ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
}

/// Stops the run with `message` when an invariant does not hold, so libFuzzer keeps the input.
public func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// Cut points for feeding one input in several reads, derived from the input itself so that a
/// crash reproduces: ascending offsets strictly inside `0..<count`.
public func cutPoints(for bytes: ByteBuffer, maximumCuts: Int = 8) -> [Int] {
    let count = bytes.readableBytes
    guard count > 1 else { return [] }
    var seed: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes.readableBytesView.prefix(64) { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01b3 }
    var cuts = Set<Int>()
    for _ in 0..<maximumCuts {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        cuts.insert(1 + Int(seed >> 33) % (count - 1))
    }
    return cuts.sorted()
}

/// `bytes` split at `cuts` into consecutive chunks.
public func chunks(of bytes: ByteBuffer, at cuts: [Int]) -> [ByteBuffer] {
    var result: [ByteBuffer] = []
    var start = 0
    for end in cuts + [bytes.readableBytes] where end > start {
        if let slice = bytes.getSlice(at: bytes.readerIndex + start, length: end - start) { result.append(slice) }
        start = end
    }
    return result
}
