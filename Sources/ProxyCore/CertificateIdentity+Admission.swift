extension CertificateIdentity {
    /// The database users this certificate admits: its RouteToDatabase user, then its allowed
    /// users (1.3.9999.2.6), without repeats. Empty: the certificate leaves the choice to the
    /// database's own authentication.
    public var admittedDatabaseUsers: [String] {
        Self.distinct([routeToDatabase.username] + allowedDatabaseUsers)
    }

    /// The database names this certificate admits, in the same way (1.3.9999.2.4, then 2.5).
    public var admittedDatabaseNames: [String] {
        Self.distinct([routeToDatabase.database] + allowedDatabaseNames)
    }

    private static func distinct(_ names: [String]) -> [String] {
        var list: [String] = []
        for name in names where !name.isEmpty && !list.contains(name) { list.append(name) }
        return list
    }
}
