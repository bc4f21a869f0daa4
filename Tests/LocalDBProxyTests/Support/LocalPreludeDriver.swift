import NIOCore
import WirePostgres

@testable import LocalDBProxy

/// Plays the I/O side of `PostgresLocalPrelude` the way its channel handler does: writes
/// replies and calls `step()` again, hands bytes to the TLS layer while a handshake runs, and
/// once the prelude is over sends everything that follows upstream untouched.
struct LocalPreludeDriver {
    enum Event: Equatable, CustomStringConvertible {
        case reply([UInt8])
        case startTLS(reply: [UInt8])
        case startDirectTLS
        case forward(PostgresLocalPrelude.Outcome)
        case fail(PostgresErrorResponse)

        var description: String {
            switch self {
            case .reply(let bytes): "reply(\(bytes))"
            case .startTLS(let reply): "startTLS(\(reply))"
            case .startDirectTLS: "startDirectTLS"
            case .forward(let outcome): "forward(\(outcome))"
            case .fail(let error): "fail(\(error.sqlState): \(error.message))"
            }
        }
    }

    private enum Phase {
        case prelude
        case handshake
        case forwarding
        case failed
    }

    private var prelude: PostgresLocalPrelude
    private var phase = Phase.prelude
    /// What the prelude asked for, in order.
    private(set) var events: [Event] = []
    /// Bytes given to the local TLS layer: a direct ClientHello replay and whatever arrives
    /// during a handshake.
    private(set) var toTLS: [UInt8] = []
    /// The forwarded packet and every byte received after it.
    private(set) var upstream: [UInt8] = []

    init(localTLS: Bool) {
        prelude = PostgresLocalPrelude(localTLS: localTLS)
    }

    /// Feeds `chunks` as separate reads.
    mutating func feed(_ chunks: [[UInt8]]) {
        for chunk in chunks { feed(chunk) }
    }

    /// Feeds one read.
    mutating func feed(_ chunk: [UInt8]) {
        switch phase {
        case .prelude: follow(prelude.received(ByteBuffer(bytes: chunk)))
        case .handshake: toTLS += chunk
        case .forwarding: upstream += chunk
        case .failed: break
        }
    }

    /// The local TLS handshake completed.
    mutating func handshakeDone() {
        phase = .prelude
        follow(prelude.tlsEstablished())
    }

    /// The last event, for tests that only look at the end.
    var last: Event? { events.last }

    /// The error of a `fail` event, if the prelude failed.
    var failure: PostgresErrorResponse? {
        guard case .fail(let error) = events.last else { return nil }
        return error
    }

    private mutating func follow(_ first: PostgresLocalPrelude.Action) {
        var action = first
        while true {
            switch action {
            case .readMore:
                return
            case .reply(let bytes):
                events.append(.reply(bytes.bytes))
                action = prelude.step()
            case .startTLS(let reply):
                events.append(.startTLS(reply: reply.bytes))
                phase = .handshake
                return
            case .startDirectTLS(let replay):
                events.append(.startDirectTLS)
                toTLS += replay.bytes
                phase = .handshake
                return
            case .forward(let bytes, let outcome):
                events.append(.forward(outcome))
                upstream += bytes.bytes
                phase = .forwarding
                return
            case .fail(let error):
                events.append(.fail(error))
                phase = .failed
                return
            }
        }
    }
}

/// Ways to cut a byte stream into reads.
enum Chunking {
    /// Every possible cut into two reads (offsets 1 ..< count).
    static func twoPieces(_ bytes: [UInt8]) -> [[[UInt8]]] {
        (1..<bytes.count).map { [Array(bytes[..<$0]), Array(bytes[$0...])] }
    }

    /// One read per byte.
    static func oneByteEach(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.map { [$0] }
    }
}
