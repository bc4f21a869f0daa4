#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WorkloadSupport

/// Entry point: parse, connect, run one workload, print `result=ok` or `result=fail` and exit.
func runPGWorkload() -> Int32 {
    do {
        let invocation = try Invocation.parse(CommandLine.arguments)
        let connectWatch = Stopwatch()
        let connection = try PGConnection(conninfo: invocation.conninfo)
        Output.fact("connect_seconds", connectWatch.seconds)
        switch invocation.subcommand {
        case .prepared(let count):
            try PreparedWorkload(count: count).run(connection)
        case let .copyIn(megabytes, table, seed, keep):
            try CopyInWorkload(megabytes: megabytes, table: table, seed: seed, keep: keep).run(connection)
        case let .copyOut(table, keep):
            try CopyOutWorkload(table: table, keep: keep).run(connection)
        case .roundtrip:
            try RoundtripWorkload().run(connection)
        }
        Output.fact("result", "ok")
        return 0
    } catch {
        return Output.failed(error, tool: "pgworkload", usage: Invocation.usage)
    }
}

exit(runPGWorkload())
