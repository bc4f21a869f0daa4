import WorkloadSupport
/// `roundtrip`: `select 1` plus facts about the session (server version, TLS on both ends, user).
struct RoundtripWorkload {
    func run(_ connection: MariaDBConnection) throws {
        let stopwatch = Stopwatch()
        let one = try connection.scalar("select 1")
        let seconds = stopwatch.seconds
        guard one == "1" else { throw Failure("select 1 returned '\(one ?? "NULL")'") }
        Output.fact("select_one", "1")
        Output.fact("seconds", seconds)
        Output.fact("server_version", try connection.scalar("select version()") ?? "")
        Output.fact("server_info", connection.serverInfo)
        // Client side: what libmariadb negotiated with its peer (the proxy, when there is one).
        Output.fact("ssl_cipher", connection.sslCipher ?? "")
        Output.fact("ssl_version", connection.tlsVersion ?? "")
        // Server side: how the session that reached the server is encrypted (empty when plain).
        let status = try connection.rows("show session status like 'Ssl_cipher'")
        Output.fact("server_ssl_cipher", status.first.flatMap { $0.count == 2 ? $0[1] : nil } ?? "")
        Output.fact("user", try connection.scalar("select current_user()") ?? "")
        Output.fact("session_user", try connection.scalar("select user()") ?? "")
        Output.fact("database", try connection.scalar("select database()") ?? "")
    }
}
