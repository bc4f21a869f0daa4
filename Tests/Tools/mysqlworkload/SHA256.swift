/// Minimal incremental SHA-256 (FIPS 180-4), used to reproduce MariaDB's `sha2(x, 256)` on the
/// client. Written with `while` loops, raw pointers and transparent integer operators only, so it
/// stays usable in debug builds (about 64 MiB in a few seconds).
struct SHA256 {
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    private var state: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    /// Bytes of an incomplete block carried over to the next `update`.
    private var pending: [UInt8] = []
    private var totalLength: UInt64 = 0

    init() {}

    /// One-shot digest as lowercase hex, identical to `sha256sum` and MariaDB's `sha2(x, 256)`.
    static func hex(_ message: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        hasher.update(message)
        return hasher.finalHex()
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex($0) }
    }

    mutating func update(_ message: UnsafeRawBufferPointer) {
        guard var input = message.baseAddress, message.count > 0 else { return }
        var remaining = message.count
        totalLength &+= UInt64(remaining)
        if !pending.isEmpty {
            let take = min(64 - pending.count, remaining)
            pending.append(contentsOf: UnsafeRawBufferPointer(start: input, count: take))
            input += take
            remaining -= take
            guard pending.count == 64 else { return }
            pending.withUnsafeBytes { block in
                if let base = block.baseAddress { compress(blocks: base, count: 1) }
            }
            pending.removeAll(keepingCapacity: true)
        }
        let fullBlocks = remaining / 64
        if fullBlocks > 0 {
            compress(blocks: input, count: fullBlocks)
        }
        let tail = remaining - fullBlocks * 64
        if tail > 0 {
            pending.append(contentsOf: UnsafeRawBufferPointer(start: input + fullBlocks * 64, count: tail))
        }
    }

    /// Pads, processes the last block(s) and returns the digest as 64 lowercase hex digits.
    mutating func finalHex() -> String {
        let bitLength = totalLength &* 8
        var padding: [UInt8] = [0x80]
        let used = (pending.count + 1) % 64
        padding.append(contentsOf: repeatElement(0, count: used <= 56 ? 56 - used : 120 - used))
        var shift: UInt64 = 56
        while true {
            padding.append(UInt8(truncatingIfNeeded: bitLength &>> shift))
            if shift == 0 { break }
            shift &-= 8
        }
        let tail = pending + padding
        pending.removeAll()
        tail.withUnsafeBytes { blocks in
            if let base = blocks.baseAddress { compress(blocks: base, count: blocks.count / 64) }
        }
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for word in state {
            var wordShift: UInt32 = 28
            while true {
                out.append(digits[Int((word &>> wordShift) & 15)])
                if wordShift == 0 { break }
                wordShift &-= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func compress(blocks: UnsafeRawPointer, count: Int) {
        Self.roundConstants.withUnsafeBufferPointer { constants in
            state.withUnsafeMutableBufferPointer { hash in
                guard let k = constants.baseAddress, let h = hash.baseAddress else { return }
                let w = UnsafeMutablePointer<UInt32>.allocate(capacity: 64)
                defer { w.deallocate() }
                var block = 0
                while block < count {
                    Self.compress(h, w, k, blocks + block &* 64)
                    block &+= 1
                }
            }
        }
    }

    private static func rotate(_ value: UInt32, _ shift: UInt32) -> UInt32 {
        (value &>> shift) | (value &<< (32 &- shift))
    }

    private static func compress(
        _ h: UnsafeMutablePointer<UInt32>, _ w: UnsafeMutablePointer<UInt32>, _ k: UnsafePointer<UInt32>,
        _ block: UnsafeRawPointer
    ) {
        let bytes = block.assumingMemoryBound(to: UInt8.self)
        var t = 0
        while t < 16 {
            let i = t &* 4
            w[t] = UInt32(bytes[i]) &<< 24 | UInt32(bytes[i &+ 1]) &<< 16 | UInt32(bytes[i &+ 2]) &<< 8 | UInt32(bytes[i &+ 3])
            t &+= 1
        }
        while t < 64 {
            let x = w[t &- 15], y = w[t &- 2]
            let s0 = rotate(x, 7) ^ rotate(x, 18) ^ (x &>> 3)
            let s1 = rotate(y, 17) ^ rotate(y, 19) ^ (y &>> 10)
            w[t] = w[t &- 16] &+ s0 &+ w[t &- 7] &+ s1
            t &+= 1
        }
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
        t = 0
        while t < 64 {
            let sum1 = rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)
            let choice = (e & f) ^ (~e & g)
            let temp1 = hh &+ sum1 &+ choice &+ k[t] &+ w[t]
            let sum0 = rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            let temp2 = sum0 &+ majority
            hh = g
            g = f
            f = e
            e = d &+ temp1
            d = c
            c = b
            b = a
            a = temp1 &+ temp2
            t &+= 1
        }
        h[0] &+= a
        h[1] &+= b
        h[2] &+= c
        h[3] &+= d
        h[4] &+= e
        h[5] &+= f
        h[6] &+= g
        h[7] &+= hh
    }
}
