import Foundation
import NIOCore
import ProxyCore

@testable import ServerALPN

/// An ErrorResponse as the tests look at it (this target cannot name WirePostgres's type).
struct PGErrorView: Equatable, CustomStringConvertible {
    var severity: String
    var sqlState: String
    var message: String
    var detail: String?
    var hint: String?
    var description: String { "\(severity) \(sqlState) \(message) detail=\(detail ?? "-") hint=\(hint ?? "-")" }
}

extension PostgresFrontendPrelude.Action {
    var failure: PGErrorView? {
        guard case .fail(let error) = self else { return nil }
        return PGErrorView(
            severity: error.severity.rawValue, sqlState: error.sqlState, message: error.message, detail: error.detail, hint: error.hint)
    }
}

/// Plays the frontend handler's part for `PostgresFrontendPrelude`: writes replies and calls
/// `step()` again; once connected, everything after goes to the database untouched.
struct FrontendPreludeDriver {
    enum Event: Equatable {
        case reply([UInt8])
        case connect(PostgresFrontendPrelude.Outcome)
        case fail(PGErrorView)
    }

    private var prelude: PostgresFrontendPrelude
    private var connected = false
    private var failed = false
    private(set) var events: [Event] = []
    /// The bytes of the `connect` action and every byte received after it.
    private(set) var upstream: [UInt8] = []

    init(_ prelude: PostgresFrontendPrelude) {
        self.prelude = prelude
    }

    init(identity: CertificateIdentity?, service: String = "pg") {
        self.init(PostgresFrontendPrelude(identity: identity, service: service))
    }

    var failure: PGErrorView? {
        guard case .fail(let error) = events.last else { return nil }
        return error
    }

    mutating func feed(_ chunks: [[UInt8]]) {
        for chunk in chunks { feed(chunk) }
    }

    mutating func feed(_ chunk: [UInt8]) {
        if failed { return }
        if connected {
            upstream += chunk
            return
        }
        var action = prelude.received(ByteBuffer(bytes: chunk))
        while true {
            switch action {
            case .readMore:
                return
            case .reply(let bytes):
                events.append(.reply(bytes.bytes))
                action = prelude.step()
            case .connect(let bytes, let outcome):
                events.append(.connect(outcome))
                upstream += bytes.bytes
                connected = true
                return
            case .fail:
                events.append(.fail(action.failure ?? PGErrorView(severity: "", sqlState: "", message: "")))
                failed = true
                return
            }
        }
    }
}

/// Certificate identities for the prelude tests.
enum PGIdentity {
    static func make(user: String = "", database: String = "", allowedUsers: [String] = [], allowedDatabases: [String] = []) -> CertificateIdentity {
        CertificateIdentity(
            username: "dev", usage: ["usage:db"],
            routeToDatabase: RouteToDatabase(serviceName: "pg", protocolName: "postgres", username: user, database: database),
            allowedDatabaseNames: allowedDatabases, allowedDatabaseUsers: allowedUsers,
            notBefore: Date(timeIntervalSince1970: 0), notAfter: Date(timeIntervalSince1970: 4_000_000_000))
    }
}
