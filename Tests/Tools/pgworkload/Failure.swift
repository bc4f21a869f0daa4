/// A check or operation that failed; `main` prints it and exits with status 1.
struct Failure: Error, CustomStringConvertible {
    let description: String
    /// Command-line mistakes also print the usage text on stderr.
    let showsUsage: Bool

    init(_ description: String, showsUsage: Bool = false) {
        self.description = description
        self.showsUsage = showsUsage
    }
}
