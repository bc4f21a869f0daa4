import NIOCore
import ProxyCore
import WirePostgres

/// The first packets of a PostgreSQL connection inside the router's TLS, free of I/O:
/// encryption requests are answered `N` (the tunnel is already encrypted), the StartupMessage is
/// checked against the certificate's identity, and a CancelRequest is passed on as it is.
struct PostgresFrontendPrelude {
    enum Action: Equatable {
        case readMore
        /// Write these bytes to the client, then call `step()` again.
        case reply(ByteBuffer)
        /// Connect to the database and send it these bytes (the packet and anything after it).
        case connect(ByteBuffer, Outcome)
        /// Send the error to the client and close.
        case fail(PostgresErrorResponse)
    }

    enum Outcome: Equatable {
        case startup(user: String, database: String)
        case cancel
    }

    private var buffer = ByteBuffer()
    private var done = false
    private let identity: CertificateIdentity?
    private let service: String
    private let refusal: PostgresErrorResponse?

    /// `refusal`: the connection is already refused; it is said as the answer to the client's
    /// first packet, where a PostgreSQL client shows it.
    init(identity: CertificateIdentity?, service: String, refusal: PostgresErrorResponse? = nil) {
        self.identity = identity
        self.service = service
        self.refusal = refusal
    }

    mutating func received(_ bytes: ByteBuffer) -> Action {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
        return step()
    }

    mutating func step() -> Action {
        guard !done else { return .readMore }
        let packetStart = buffer
        let packet: PostgresStartupPacket?
        do {
            packet = try PostgresStartupDecoder.decode(&buffer)
        } catch {
            return fail(PostgresErrorResponse(
                severity: .fatal, sqlState: PostgresSQLState.protocolViolation, message: "invalid startup packet: \(error.message)"))
        }
        guard let packet else { return .readMore }
        switch packet {
        case .sslRequest, .gssEncRequest:
            return .reply(ByteBuffer(bytes: [PostgresSSLResponse.notSupported.rawValue]))
        case .cancelRequest:
            if let refusal { return fail(refusal) }
            done = true
            return .connect(packetStart, .cancel)
        case .startup(var message):
            if let refusal { return fail(refusal) }
            switch PostgresStartupAuthorization.authorize(&message, identity: identity, service: service) {
            case .failure(let error):
                return fail(error)
            case .success(let changed):
                done = true
                // As the server does: no database (or an empty one) means the user's name.
                let database = message.database.flatMap { $0.isEmpty ? nil : $0 } ?? message.user ?? ""
                let outcome = Outcome.startup(user: message.user ?? "", database: database)
                guard changed else { return .connect(packetStart, outcome) }
                var rewritten = ByteBuffer()
                message.write(into: &rewritten)
                rewritten.writeImmutableBuffer(buffer)
                return .connect(rewritten, outcome)
            }
        }
    }

    private mutating func fail(_ error: PostgresErrorResponse) -> Action {
        done = true
        return .fail(error)
    }
}

/// The rule for database user and database name: a certificate that names a user (its
/// RouteToDatabase user, or its allowed users) admits only those, and likewise for database
/// names; what a certificate leaves open is left to the database's own authentication.
enum PostgresStartupAuthorization {
    /// Checks `message` and fills in the certificate's user and database where the client sent
    /// none. Returns whether the message changed.
    static func authorize(
        _ message: inout PostgresStartupMessage, identity: CertificateIdentity?, service: String
    ) -> Result<Bool, PostgresErrorResponse> {
        guard let identity else { return .success(false) }
        var changed = false
        let route = identity.routeToDatabase
        let users = identity.admittedDatabaseUsers
        let names = identity.admittedDatabaseNames
        if message.user?.isEmpty ?? true, !route.username.isEmpty {
            message["user"] = route.username
            changed = true
        }
        guard let user = message.user, !user.isEmpty else {
            return .failure(denied("no database user given", hint: "Connect with a user name (psql -U NAME)."))
        }
        if message.database?.isEmpty ?? true, !route.database.isEmpty {
            message["database"] = route.database
            changed = true
        }
        let database = message.database.flatMap { $0.isEmpty ? nil : $0 } ?? user
        if !users.isEmpty, !users.contains(user) {
            return .failure(denied(
                "certificate of \"\(identity.username)\" does not allow database user \"\(user)\" on \(service)",
                detail: "Allowed database users: \(users.joined(separator: ", ")).",
                hint: "Connect as one of them, or issue a certificate for this user (--db-user)."))
        }
        if !names.isEmpty, !names.contains(database) {
            return .failure(denied(
                "certificate of \"\(identity.username)\" does not allow database \"\(database)\" on \(service)",
                detail: "Allowed databases: \(names.joined(separator: ", ")).",
                hint: "Connect to one of them, or issue a certificate for this database (--db-name)."))
        }
        return .success(changed)
    }

    private static func denied(_ message: String, detail: String? = nil, hint: String? = nil) -> PostgresErrorResponse {
        PostgresErrorResponse(
            severity: .fatal, sqlState: PostgresSQLState.invalidAuthorizationSpecification,
            message: "access denied: \(message)", detail: detail, hint: hint)
    }
}
