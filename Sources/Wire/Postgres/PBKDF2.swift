import Crypto

/// PBKDF2-HMAC-SHA256 (RFC 8018) for SCRAM's SaltedPassword, producing one 32-byte block.
enum PBKDF2SHA256 {
    /// Hi(password, salt, iterations) from RFC 5802: the first PBKDF2 block.
    static func hi(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        // The keyed state is computed once and copied for every round.
        let keyed = HMAC<SHA256>(key: key)
        var first = keyed
        first.update(data: salt)
        first.update(data: [0, 0, 0, 1])
        var previous = Array(first.finalize())
        var result = previous
        var round = 1
        while round < iterations {
            var next = keyed
            next.update(data: previous)
            previous = Array(next.finalize())
            for index in result.indices { result[index] ^= previous[index] }
            round += 1
        }
        return result
    }
}
