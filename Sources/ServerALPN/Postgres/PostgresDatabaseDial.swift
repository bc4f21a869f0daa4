import NIOCore

/// The router's connection to a PostgreSQL database, started as soon as the client's TLS
/// handshake is done, so that the database's accept and fork overlap the client's startup
/// packet on its way through the chain. The startup packet goes to the database only once it
/// has passed the certificate check; a connection nobody takes is closed with the client's.
///
/// Event-loop bound: every method runs on the router connection's event loop.
final class PostgresDatabaseDial {
    enum Outcome {
        /// Connected, SSLRequest and TLS done where configured; the negotiator is still in the
        /// pipeline. The channel may have closed since (the database's authentication timeout).
        case ready(Channel, PostgresBackendHandler)
        case failed(String)
    }

    private var outcome: Outcome?
    private var waiter: ((Outcome) -> Void)?
    private var channel: Channel?
    /// The outcome went to the caller of `whenSettled`, which owns the channel from then on.
    private var delivered = false
    private var abandoned = false

    /// The TCP connection is up (before any SSLRequest).
    func connected(_ channel: Channel) {
        self.channel = channel
        if abandoned { channel.close(promise: nil) }
    }

    func ready(_ channel: Channel, negotiator: PostgresBackendHandler) {
        self.channel = channel
        if abandoned { channel.close(promise: nil) }
        settle(.ready(channel, negotiator))
    }

    func failed(_ reason: String) {
        settle(.failed(reason))
    }

    /// Calls `body` once the dial has an outcome (at once when it has one already).
    func whenSettled(_ body: @escaping (Outcome) -> Void) {
        if let outcome {
            delivered = true
            body(outcome)
        } else {
            waiter = body
        }
    }

    /// The client's connection closed: close the database connection unless its caller has it.
    func abandon() {
        abandoned = true
        waiter = nil
        if !delivered { channel?.close(promise: nil) }
    }

    private func settle(_ result: Outcome) {
        guard outcome == nil else { return }
        outcome = result
        if let waiter {
            self.waiter = nil
            delivered = true
            waiter(result)
        }
    }
}
