import CLibPQ
import WorkloadSupport

/// `roundtrip`: `select 1` plus facts about the session (server version, TLS, user).
struct RoundtripWorkload {
    func run(_ connection: PGConnection) throws {
        let stopwatch = Stopwatch()
        let one = try connection.scalar("select 1")
        let seconds = stopwatch.seconds
        guard one == "1" else { throw Failure("select 1 returned '\(one)'") }
        Output.fact("select_one", one)
        Output.fact("seconds", seconds)
        Output.fact("server_version", try connection.scalar("show server_version"))
        Output.fact("server_version_num", Int(PQserverVersion(connection.raw)))
        Output.fact("ssl_in_use", Int(PQsslInUse(connection.raw)))
        if PQsslInUse(connection.raw) != 0, let tlsVersion = PQsslAttribute(connection.raw, "protocol") {
            Output.fact("ssl_protocol", String(cString: tlsVersion))
        }
        Output.fact("user", try connection.scalar("select current_user"))
        Output.fact("database", try connection.scalar("select current_database()"))
    }
}
