/// A check or operation of a workload tool that failed; its `main` prints it and exits with status 1.
public struct Failure: Error, CustomStringConvertible {
    public let description: String
    /// Command-line mistakes also print the usage text on stderr.
    public let showsUsage: Bool

    public init(_ description: String, showsUsage: Bool = false) {
        self.description = description
        self.showsUsage = showsUsage
    }
}
