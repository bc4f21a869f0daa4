import Crypto

/// Scrambles for the fast paths: mysql_native_password = SHA1(password) XOR
/// SHA1(nonce + SHA1(SHA1(password))); caching_sha2_password = XOR(SHA256(password),
/// SHA256(SHA256(SHA256(password)) + nonce)). Empty password -> empty response.
public enum MySQLScramble {
    /// The 20-byte mysql_native_password answer to `nonce` (pass the nonce without its NUL).
    public static func nativePassword(_ password: String, nonce: [UInt8]) -> [UInt8] {
        guard !password.isEmpty else { return [] }
        let stage1 = Array(Insecure.SHA1.hash(data: Array(password.utf8)))
        let stage2 = Array(Insecure.SHA1.hash(data: stage1))
        let mask = Insecure.SHA1.hash(data: nonce + stage2)
        return zip(stage1, mask).map { $0 ^ $1 }
    }

    /// The 32-byte caching_sha2_password fast-path answer to `nonce` (without its NUL).
    public static func cachingSHA2Password(_ password: String, nonce: [UInt8]) -> [UInt8] {
        guard !password.isEmpty else { return [] }
        let stage1 = Array(SHA256.hash(data: Array(password.utf8)))
        let stage2 = Array(SHA256.hash(data: stage1))
        let mask = SHA256.hash(data: stage2 + nonce)
        return zip(stage1, mask).map { $0 ^ $1 }
    }
}
