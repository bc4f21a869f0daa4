import NIOCore
import ProxyCore
import Testing
import WireMySQL

@testable import ServerALPN

/// Where TCP cuts the bytes must not matter: every step of a login, fed whole, cut once at
/// every offset, or fed one byte at a time, gives the same bytes each way and the same events.
struct MySQLRouterSessionSplitTests {
    enum Step {
        case backend([UInt8])
        case client([UInt8])
        case tlsUp
    }

    /// What both ends saw; `marks` are the events with the byte counts each way at that moment.
    struct Transcript: Equatable {
        var toClient: [UInt8] = []
        var toBackend: [UInt8] = []
        var marks: [String] = []
    }

    /// Plays the driver's part: after a splice bytes pass straight through; after a fail or
    /// close, nothing more is delivered.
    struct Harness {
        var session: MySQLRouterSession
        var transcript = Transcript()
        var spliced = false
        var ended = false

        mutating func run(_ steps: [Step], cut: ([UInt8]) -> [[UInt8]]) -> Transcript {
            for step in steps {
                switch step {
                case .backend(let bytes):
                    for chunk in cut(bytes) where !ended {
                        if spliced { transcript.toClient += chunk } else { perform(session.backendReceived(ByteBuffer(bytes: chunk))) }
                    }
                case .client(let bytes):
                    for chunk in cut(bytes) where !ended {
                        if spliced { transcript.toBackend += chunk } else { perform(session.clientReceived(ByteBuffer(bytes: chunk))) }
                    }
                case .tlsUp:
                    if !ended && !spliced { perform(session.backendTLSEstablished()) }
                }
            }
            return transcript
        }

        private mutating func perform(_ actions: [MySQLRouterSession.Action]) {
            for action in actions where !ended {
                let at = "@\(transcript.toClient.count)/\(transcript.toBackend.count)"
                switch action {
                case .sendToClient(let bytes): transcript.toClient += bytes.bytes
                case .sendToBackend(let bytes): transcript.toBackend += bytes.bytes
                case .startBackendTLS: transcript.marks.append("startTLS" + at)
                case .splice(let toBackend, let toClient):
                    transcript.marks.append("splice" + at)
                    transcript.toBackend += toBackend.bytes
                    transcript.toClient += toClient.bytes
                    spliced = true
                case .fail(let packet, let reason):
                    transcript.marks.append("fail" + at + " " + reason)
                    transcript.toClient += packet.bytes
                    ended = true
                case .close(let reason):
                    transcript.marks.append("close" + at + " " + reason)
                    ended = true
                }
            }
        }
    }

    enum Scenario: String, CaseIterable {
        case plainLogin, tlsAuthSwitch, tlsDatabaseRefusal, identityRefusal, greetingRefusal
    }

    static func steps(_ scenario: Scenario) throws -> (DatabaseTLS.Mode, CertificateIdentity?, [Step]) {
        let greeting = try MySQLGolden.greeting()
        let server = try MySQLGolden.bytes("alice.server")
        let afterGreeting = Array(server[greeting.count...])
        let response = try MySQLGolden.response()
        let alice = MySQLIdentity.make(user: "alice", database: "appdb")
        switch scenario {
        case .plainLogin:
            return (.disable, alice, [.backend(greeting), .client(try MySQLGolden.bytes("alice.client")), .backend(afterGreeting), .client([1, 0, 0, 0, 1])])
        case .tlsAuthSwitch:
            let resultSet = Array(afterGreeting.dropFirst(try MySQLGolden.ok().count))
            return (.verifyFull, alice, [
                .backend(greeting), .client(response), .tlsUp,
                .backend(MySQLBytes.frame(MySQLRouterSessionPlainTests.authSwitchPayload, sequence: 3)),
                .client(MySQLBytes.frame(Array(repeating: 0x5A, count: 20), sequence: 3)),
                .backend(MySQLBytes.renumbered(try MySQLGolden.ok(), 5) + resultSet),
                .client([1, 0, 0, 0, 1]),
            ])
        case .tlsDatabaseRefusal:
            return (.require, nil, [.backend(greeting), .client(response), .tlsUp, .backend(MySQLBytes.renumbered(try MySQLGolden.accessDenied(), 3) + [1, 0, 0, 9, 0])])
        case .identityRefusal:
            return (.verifyCA, MySQLIdentity.make(user: "bob"), [.backend(greeting), .client(response + [1, 0, 0, 0, 1]), .tlsUp])
        case .greetingRefusal:
            return (.verifyFull, nil, [.backend(MySQLBytes.error(code: 1040, state: "08004", message: "Too many connections", sequence: 0) + [5, 0, 0])])
        }
    }

    static func play(_ scenario: Scenario, cut: ([UInt8]) -> [[UInt8]]) throws -> Transcript {
        let (mode, identity, steps) = try steps(scenario)
        var harness = Harness(session: MySQLRouterSession(identity: identity, service: "mariadb", tlsMode: mode))
        return harness.run(steps, cut: cut)
    }

    @Test(arguments: Scenario.allCases)
    func oneByteAtATimeGivesTheSameTranscript(_ scenario: Scenario) throws {
        let whole = try Self.play(scenario) { [$0] }
        #expect(!whole.marks.isEmpty)
        #expect(try Self.play(scenario) { $0.map { [$0] } } == whole)
    }

    @Test(arguments: Scenario.allCases)
    func everySingleCutGivesTheSameTranscript(_ scenario: Scenario) throws {
        let whole = try Self.play(scenario) { [$0] }
        let (_, _, steps) = try Self.steps(scenario)
        let lengths = steps.compactMap { step -> Int? in
            switch step {
            case .backend(let bytes), .client(let bytes): bytes.count
            case .tlsUp: nil
            }
        }
        // `index` counts the steps that carry bytes, as `cut` is called for those only.
        for (index, length) in lengths.enumerated() {
            for offset in 1..<length {
                var seen = 0
                let cut = try Self.play(scenario) { bytes in
                    defer { seen += 1 }
                    return seen == index ? [Array(bytes[..<offset]), Array(bytes[offset...])] : [bytes]
                }
                #expect(cut == whole, "step \(index) cut at \(offset)")
            }
        }
    }

    @Test func transcriptsShowTheExpectedLogin() throws {
        let plain = try Self.play(.plainLogin) { [$0] }
        #expect(plain.toBackend == (try MySQLGolden.bytes("alice.client")) + [1, 0, 0, 0, 1])
        #expect(plain.marks.count == 1 && plain.marks[0].hasPrefix("splice@104/"))
        let tls = try Self.play(.tlsAuthSwitch) { [$0] }
        #expect(tls.marks.first == "startTLS@104/36")
        #expect(tls.marks.count == 2 && tls.marks[1].hasPrefix("splice@"))
    }
}
