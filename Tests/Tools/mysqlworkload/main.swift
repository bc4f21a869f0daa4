#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WorkloadSupport

/// Entry point: parse, connect, run one workload, print `result=ok` or `result=fail` and exit.
func runMySQLWorkload() -> Int32 {
    do {
        let invocation = try Invocation.parse(CommandLine.arguments)
        let connectWatch = Stopwatch()
        let connection = try MariaDBConnection(invocation.connection)
        Output.fact("connect_seconds", connectWatch.seconds)
        Output.fact("ssl_mode", invocation.connection.sslMode.rawValue)
        switch invocation.subcommand {
        case .roundtrip:
            try RoundtripWorkload().run(connection)
        case .prepared(let count):
            try PreparedWorkload(count: count).run(connection)
        case .queries(let count):
            try QueriesWorkload(count: count).run(connection)
        case let .blob(megabytes, table, seed, chunkMegabytes, keep):
            try BlobWorkload(megabytes: megabytes, table: table, seed: seed, chunkMegabytes: chunkMegabytes, keep: keep)
                .run(connection)
        }
        Output.fact("result", "ok")
        return 0
    } catch {
        return Output.failed(error, tool: "mysqlworkload", usage: Invocation.usage)
    }
}

exit(runMySQLWorkload())
