import WorkloadSupport
/// `queries`: `count` small text-protocol queries (`select <i>`, COM_QUERY + buffered result),
/// each answer checked on the client.
struct QueriesWorkload {
    let count: Int

    func run(_ connection: MariaDBConnection) throws {
        let stopwatch = Stopwatch()
        for iteration in 0..<count {
            // Vary sign and width so the text rows differ in length.
            let value = iteration % 3 == 2 ? -(iteration * 7_919) : iteration * 104_729
            let answer = try connection.scalar("select \(value)")
            guard answer == String(value) else {
                throw Failure("query #\(iteration): select \(value) returned '\(answer ?? "NULL")'")
            }
        }
        let seconds = stopwatch.seconds
        Output.fact("queries_ok", count)
        Output.fact("seconds", seconds)
        Output.fact("queries_per_s", seconds > 0 ? Double(count) / seconds : 0)
    }
}
