/// Minimal one-shot MD5 (RFC 1321), used to reproduce PostgreSQL's `md5()` on the client.
/// Written with unrolled rounds and only transparent integer operators so it stays fast in debug builds.
enum MD5 {
    typealias State = (UInt32, UInt32, UInt32, UInt32)

    /// Digest of `message` as the four little-endian state words.
    static func digest(_ message: UnsafeRawBufferPointer) -> State {
        var state: State = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
        let fullBlocks = message.count / 64
        guard let base = message.baseAddress else { return finish(state, tail: message, totalLength: 0) }
        var offset = 0
        for _ in 0..<fullBlocks {
            compress(&state, base + offset)
            offset += 64
        }
        let rest = UnsafeRawBufferPointer(start: base + offset, count: message.count - offset)
        return finish(state, tail: rest, totalLength: message.count)
    }

    /// Lowercase hex digest, identical to PostgreSQL's `md5(text)`.
    static func hex(_ state: State) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in [state.0, state.1, state.2, state.3] {
            for byteIndex in 0..<4 {
                let byte = Int((word >> UInt32(byteIndex * 8)) & 0xff)
                out.append(digits[byte >> 4])
                out.append(digits[byte & 15])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first 8 digest bytes read as a big-endian integer (the first 16 hex digits).
    static func leadingBits(_ state: State) -> UInt64 {
        (UInt64(state.0.byteSwapped) << 32) | UInt64(state.1.byteSwapped)
    }

    private static func finish(_ initial: State, tail: UnsafeRawBufferPointer, totalLength: Int) -> State {
        var state = initial
        var padded = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                      UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &padded) { buffer in
            if let source = tail.baseAddress, tail.count > 0 {
                buffer.baseAddress?.copyMemory(from: source, byteCount: tail.count)
            }
            buffer[tail.count] = 0x80
            let length = tail.count < 56 ? 64 : 128
            buffer.storeBytes(of: (UInt64(totalLength) &* 8).littleEndian, toByteOffset: length - 8, as: UInt64.self)
            guard let base = buffer.baseAddress else { return }
            compress(&state, UnsafeRawPointer(base))
            if length == 128 {
                compress(&state, UnsafeRawPointer(base + 64))
            }
        }
        return state
    }

    private static func word(_ block: UnsafeRawPointer, _ index: Int) -> UInt32 {
        UInt32(littleEndian: block.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
    }

    private static func rotate(_ value: UInt32, _ shift: UInt32) -> UInt32 {
        (value &<< shift) | (value &>> (32 &- shift))
    }

    private static func f(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ t: UInt32) -> UInt32 {
        b &+ rotate(a &+ ((b & c) | (~b & d)) &+ x &+ t, s)
    }

    private static func g(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ t: UInt32) -> UInt32 {
        b &+ rotate(a &+ ((b & d) | (c & ~d)) &+ x &+ t, s)
    }

    private static func h(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ t: UInt32) -> UInt32 {
        b &+ rotate(a &+ (b ^ c ^ d) &+ x &+ t, s)
    }

    private static func i(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ t: UInt32) -> UInt32 {
        b &+ rotate(a &+ (c ^ (b | ~d)) &+ x &+ t, s)
    }

    private static func compress(_ state: inout State, _ block: UnsafeRawPointer) {
        let x0 = word(block, 0), x1 = word(block, 1), x2 = word(block, 2), x3 = word(block, 3)
        let x4 = word(block, 4), x5 = word(block, 5), x6 = word(block, 6), x7 = word(block, 7)
        let x8 = word(block, 8), x9 = word(block, 9), x10 = word(block, 10), x11 = word(block, 11)
        let x12 = word(block, 12), x13 = word(block, 13), x14 = word(block, 14), x15 = word(block, 15)
        var a = state.0, b = state.1, c = state.2, d = state.3

        a = f(a, b, c, d, x0, 7, 0xd76a_a478); d = f(d, a, b, c, x1, 12, 0xe8c7_b756)
        c = f(c, d, a, b, x2, 17, 0x2420_70db); b = f(b, c, d, a, x3, 22, 0xc1bd_ceee)
        a = f(a, b, c, d, x4, 7, 0xf57c_0faf); d = f(d, a, b, c, x5, 12, 0x4787_c62a)
        c = f(c, d, a, b, x6, 17, 0xa830_4613); b = f(b, c, d, a, x7, 22, 0xfd46_9501)
        a = f(a, b, c, d, x8, 7, 0x6980_98d8); d = f(d, a, b, c, x9, 12, 0x8b44_f7af)
        c = f(c, d, a, b, x10, 17, 0xffff_5bb1); b = f(b, c, d, a, x11, 22, 0x895c_d7be)
        a = f(a, b, c, d, x12, 7, 0x6b90_1122); d = f(d, a, b, c, x13, 12, 0xfd98_7193)
        c = f(c, d, a, b, x14, 17, 0xa679_438e); b = f(b, c, d, a, x15, 22, 0x49b4_0821)

        a = g(a, b, c, d, x1, 5, 0xf61e_2562); d = g(d, a, b, c, x6, 9, 0xc040_b340)
        c = g(c, d, a, b, x11, 14, 0x265e_5a51); b = g(b, c, d, a, x0, 20, 0xe9b6_c7aa)
        a = g(a, b, c, d, x5, 5, 0xd62f_105d); d = g(d, a, b, c, x10, 9, 0x0244_1453)
        c = g(c, d, a, b, x15, 14, 0xd8a1_e681); b = g(b, c, d, a, x4, 20, 0xe7d3_fbc8)
        a = g(a, b, c, d, x9, 5, 0x21e1_cde6); d = g(d, a, b, c, x14, 9, 0xc337_07d6)
        c = g(c, d, a, b, x3, 14, 0xf4d5_0d87); b = g(b, c, d, a, x8, 20, 0x455a_14ed)
        a = g(a, b, c, d, x13, 5, 0xa9e3_e905); d = g(d, a, b, c, x2, 9, 0xfcef_a3f8)
        c = g(c, d, a, b, x7, 14, 0x676f_02d9); b = g(b, c, d, a, x12, 20, 0x8d2a_4c8a)

        a = h(a, b, c, d, x5, 4, 0xfffa_3942); d = h(d, a, b, c, x8, 11, 0x8771_f681)
        c = h(c, d, a, b, x11, 16, 0x6d9d_6122); b = h(b, c, d, a, x14, 23, 0xfde5_380c)
        a = h(a, b, c, d, x1, 4, 0xa4be_ea44); d = h(d, a, b, c, x4, 11, 0x4bde_cfa9)
        c = h(c, d, a, b, x7, 16, 0xf6bb_4b60); b = h(b, c, d, a, x10, 23, 0xbebf_bc70)
        a = h(a, b, c, d, x13, 4, 0x289b_7ec6); d = h(d, a, b, c, x0, 11, 0xeaa1_27fa)
        c = h(c, d, a, b, x3, 16, 0xd4ef_3085); b = h(b, c, d, a, x6, 23, 0x0488_1d05)
        a = h(a, b, c, d, x9, 4, 0xd9d4_d039); d = h(d, a, b, c, x12, 11, 0xe6db_99e5)
        c = h(c, d, a, b, x15, 16, 0x1fa2_7cf8); b = h(b, c, d, a, x2, 23, 0xc4ac_5665)

        a = i(a, b, c, d, x0, 6, 0xf429_2244); d = i(d, a, b, c, x7, 10, 0x432a_ff97)
        c = i(c, d, a, b, x14, 15, 0xab94_23a7); b = i(b, c, d, a, x5, 21, 0xfc93_a039)
        a = i(a, b, c, d, x12, 6, 0x655b_59c3); d = i(d, a, b, c, x3, 10, 0x8f0c_cc92)
        c = i(c, d, a, b, x10, 15, 0xffef_f47d); b = i(b, c, d, a, x1, 21, 0x8584_5dd1)
        a = i(a, b, c, d, x8, 6, 0x6fa8_7e4f); d = i(d, a, b, c, x15, 10, 0xfe2c_e6e0)
        c = i(c, d, a, b, x6, 15, 0xa301_4314); b = i(b, c, d, a, x13, 21, 0x4e08_11a1)
        a = i(a, b, c, d, x4, 6, 0xf753_7e82); d = i(d, a, b, c, x11, 10, 0xbd3a_f235)
        c = i(c, d, a, b, x2, 15, 0x2ad7_d2bb); b = i(b, c, d, a, x9, 21, 0xeb86_d391)

        state.0 &+= a
        state.1 &+= b
        state.2 &+= c
        state.3 &+= d
    }
}
