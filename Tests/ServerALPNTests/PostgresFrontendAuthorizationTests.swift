import NIOCore
import ProxyCore
import Testing

@testable import ServerALPN

/// The StartupMessage checked against the certificate: a named user or database admits only
/// those (plus the allowed lists), missing ones are filled in from the certificate.
@Suite("PostgresFrontendPrelude: certificate identity")
struct PostgresFrontendAuthorizationTests {
    func run(_ identity: CertificateIdentity, _ bytes: [UInt8], service: String = "pg") -> FrontendPreludeDriver {
        var driver = FrontendPreludeDriver(identity: identity, service: service)
        driver.feed(bytes)
        return driver
    }

    @Test("a matching user and database pass byte for byte")
    func matchingPassesUnchanged() throws {
        let stream = try PGGolden.trustuserStream()
        let driver = run(PGIdentity.make(user: "trustuser", database: "appdb"), stream)
        #expect(driver.events == [.connect(.startup(user: "trustuser", database: "appdb"))])
        #expect(driver.upstream == stream)
    }

    @Test("an identity that names no user or database passes the packet byte for byte")
    func openIdentityUnchanged() throws {
        let stream = try PGGolden.trustuserStream()
        let driver = run(PGIdentity.make(), stream)
        #expect(driver.events == [.connect(.startup(user: "trustuser", database: "appdb"))])
        #expect(driver.upstream == stream)
    }

    @Test("another user fails with 28000, naming the user, the service and the allowed users")
    func userMismatch() throws {
        let driver = run(PGIdentity.make(user: "alice", database: "appdb"), try PGGolden.trustuserStream(), service: "orders")
        let error = try #require(driver.failure)
        #expect(driver.events.count == 1)
        #expect(error.sqlState == "28000")
        #expect(error.severity == "FATAL")
        #expect(error.message == "access denied: certificate of \"dev\" does not allow database user \"trustuser\" on orders")
        #expect(error.detail == "Allowed database users: alice.")
        #expect(error.hint?.contains("--db-user") == true)
        #expect(driver.upstream.isEmpty)
    }

    @Test("another database fails with 28000, naming the database and the allowed ones")
    func databaseMismatch() throws {
        let driver = run(PGIdentity.make(user: "trustuser", database: "appdb"), try PGGolden.noDatabaseStartup())
        let error = try #require(driver.failure)
        #expect(error.sqlState == "28000")
        #expect(error.message == "access denied: certificate of \"dev\" does not allow database \"no_such_database\" on pg")
        #expect(error.detail == "Allowed databases: appdb.")
        #expect(error.hint?.contains("--db-name") == true)
    }

    @Test("allowed database users admit a second user, unchanged")
    func allowedUsersAdmitSecond() throws {
        let identity = PGIdentity.make(user: "alice", allowedUsers: ["trustuser"])
        let stream = try PGGolden.trustuserStream()
        let driver = run(identity, stream)
        #expect(driver.events == [.connect(.startup(user: "trustuser", database: "appdb"))])
        #expect(driver.upstream == stream)
    }

    @Test("a user in neither the route nor the allowed list is denied; the detail lists both, once each")
    func allowedUsersDenyOthers() throws {
        let identity = PGIdentity.make(user: "alice", allowedUsers: ["bob", "alice"])
        let driver = run(identity, PGBytes.startup([("user", "carol")]))
        let error = try #require(driver.failure)
        #expect(error.sqlState == "28000")
        #expect(error.detail == "Allowed database users: alice, bob.")
    }

    @Test("allowed users alone (no route user) restrict the user too")
    func allowedUsersWithoutRouteUser() throws {
        let identity = PGIdentity.make(allowedUsers: ["bob"])
        #expect(run(identity, PGBytes.startup([("user", "bob")])).events == [.connect(.startup(user: "bob", database: "bob"))])
        #expect(run(identity, PGBytes.startup([("user", "carol")])).failure?.detail == "Allowed database users: bob.")
    }

    @Test("allowed database names admit a second database")
    func allowedDatabasesAdmitSecond() throws {
        let identity = PGIdentity.make(database: "appdb", allowedDatabases: ["no_such_database"])
        let packet = try PGGolden.noDatabaseStartup()
        let driver = run(identity, packet)
        #expect(driver.events == [.connect(.startup(user: "trustuser", database: "no_such_database"))])
        #expect(driver.upstream == packet)
    }

    @Test("without a database the user name is the database that is checked")
    func databaseDefaultsToUserForCheck() throws {
        let identity = PGIdentity.make(allowedDatabases: ["appdb"])
        let error = try #require(run(identity, PGBytes.startup([("user", "bob")])).failure)
        #expect(error.message.contains("does not allow database \"bob\""))
        #expect(error.detail == "Allowed databases: appdb.")
    }

    @Test("a missing user is filled in from the certificate; the bytes after the packet follow")
    func missingUserFilled() throws {
        let query = PGBytes.query("select 1")
        let original = PGBytes.startup([("database", "appdb"), ("application_name", "psql")])
        let driver = run(PGIdentity.make(user: "alice"), original + query)
        #expect(driver.events == [.connect(.startup(user: "alice", database: "appdb"))])
        let view = try #require(PGStartupView(driver.upstream))
        #expect(view.version == 0x0003_0000)
        #expect(view.parameters == [
            .init(name: "database", value: "appdb"), .init(name: "application_name", value: "psql"), .init(name: "user", value: "alice"),
        ])
        #expect(view.rest == query)
        #expect(driver.upstream.count == original.count + "user\0alice\0".utf8.count + query.count)
    }

    @Test("an empty user is replaced in place by the certificate's")
    func emptyUserReplaced() throws {
        let driver = run(PGIdentity.make(user: "alice"), PGBytes.startup([("user", ""), ("database", "appdb")]))
        let view = try #require(PGStartupView(driver.upstream))
        #expect(view.parameters == [.init(name: "user", value: "alice"), .init(name: "database", value: "appdb")])
        #expect(view.rest.isEmpty)
    }

    @Test("a missing user and database are both filled in")
    func missingUserAndDatabaseFilled() throws {
        let query = PGBytes.query("select 1")
        let driver = run(PGIdentity.make(user: "alice", database: "appdb"), PGBytes.startup([("client_encoding", "UTF8")]) + query)
        #expect(driver.events == [.connect(.startup(user: "alice", database: "appdb"))])
        let view = try #require(PGStartupView(driver.upstream))
        #expect(view.parameters == [
            .init(name: "client_encoding", value: "UTF8"), .init(name: "user", value: "alice"), .init(name: "database", value: "appdb"),
        ])
        #expect(view.rest == query)
    }

    @Test("a missing user with no user in the certificate fails with 28000")
    func noUserAnywhere() throws {
        let error = try #require(run(PGIdentity.make(database: "appdb"), PGBytes.startup([("database", "appdb")])).failure)
        #expect(error.sqlState == "28000")
        #expect(error.message == "access denied: no database user given")
        #expect(error.hint?.contains("psql -U") == true)
    }

    @Test("the user is checked after it is filled in: a filled-in user still meets the database rule")
    func filledUserThenDatabaseRule() throws {
        let identity = PGIdentity.make(user: "alice", database: "appdb")
        let error = try #require(run(identity, PGBytes.startup([("database", "other")])).failure)
        #expect(error.message.contains("does not allow database \"other\""))
    }
}
