import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ProxyCore
import WireMongo

/// Connects one MongoDB client to its database (TLS from the first byte where configured) and
/// puts the request and reply handlers around the splice. Lives on the client channel's event
/// loop.
final class MongoSessionDriver {
    private let connection: RouterConnection
    private let database: DatabaseRoute
    private let destination: RouteTable.Destination
    private let requests: MongoRequestHandler
    private var session: TLSSessionHandler?
    private var backend: Channel?
    private var replies: MongoReplyHandler?
    private var settled = false
    private var deadline: Scheduled<Void>?

    init(connection: RouterConnection, database: DatabaseRoute, destination: RouteTable.Destination) {
        self.connection = connection
        self.database = database
        self.destination = destination
        let policy = MongoRequestPolicy(identity: destination.identity, service: database.name)
        self.requests = MongoRequestHandler(policy: policy, logger: connection.logger)
    }

    /// Connects to the database; the client's first bytes wait in `session` meanwhile.
    func start(after session: TLSSessionHandler) {
        self.session = session
        let bound = NIOLoopBound(self, eventLoop: connection.channel.eventLoop)
        let tlsContext = connection.shared.backendContexts[database.name]
        let serverName = database.tls.serverName ?? database.address.tlsServerName
        connection.dialStarting()
        ClientBootstrap(group: connection.channel.eventLoop)
            .connectTimeout(connection.shared.timeouts.connect)
            .proxiedConnectionOptions()
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if let tlsContext {
                        try operations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                    }
                    let replies = MongoReplyHandler(session: bound.value)
                    bound.value.replies = replies
                    try operations.addHandler(replies)
                }
            }
            .dial(database.address)
            .whenComplete { result in
                let driver = bound.value
                switch result {
                case .failure(let error):
                    driver.backendFailed("cannot connect: \(error)")
                case .success(let channel):
                    driver.connection.dialFinished()
                    guard !driver.settled, driver.connection.channel.isActive else {
                        channel.close(promise: nil)
                        return
                    }
                    driver.backend = channel
                    // Over TLS the splice waits for the handshake, so a refused certificate is
                    // still told to the client as a reply.
                    if tlsContext == nil { driver.backendReady() }
                }
            }
    }

    /// The database connection is usable: splice.
    func backendReady() {
        guard !settled, let backend, let replies, let session else { return }
        settled = true
        let (clientGlue, backendGlue) = GlueHandler.matchedPair()
        let requests = requests
        replies.onMaximumLength = { length in requests.limits.maximumLength = length }
        let logger = connection.logger
        requests.onClose = { reason in logger.info("connection closed by the router", metadata: ["reason": "\(reason)"]) }
        do {
            try backend.pipeline.syncOperations.addHandler(backendGlue, position: .after(replies))
            replies.markSpliced()
            if let audit = connection.auditHandler(destination: destination, database: database) {
                try session.handOver(to: requests, audit, clientGlue)
            } else {
                try session.handOver(to: requests, clientGlue)
            }
            connection.spliced(to: database.address, destination: destination, glue: (clientGlue, backendGlue))
        } catch {
            backend.close(promise: nil)
            connection.perform(.reject(.tlsFailed("cannot splice: \(error)")))
        }
        self.session = nil
        self.replies = nil
    }

    /// The database cannot be reached: answer the client's first request with the reason.
    func backendFailed(_ reason: String) {
        guard !settled, let session else { return }
        settled = true
        backend?.close(promise: nil)
        let full = "dbproxy router: cannot reach database \"\(database.name)\" at \(database.address): \(reason)"
        requests.answerWithFailure(MongoErrorReply(message: full, code: 6, codeName: "HostUnreachable"), reason: full)
        let connection = connection
        let address = database.address
        requests.onClose = { _ in connection.perform(connection.machine.refused(.backendUnreachable(address, reason))) }
        do {
            try session.handOver(to: requests)
            _ = connection.channel.setOption(ChannelOptions.autoRead, value: true)
        } catch {
            connection.perform(connection.machine.refused(.backendUnreachable(address, reason)))
        }
        // A client that never asks is not kept waiting for ever.
        let bound = NIOLoopBound(connection, eventLoop: connection.channel.eventLoop)
        deadline = connection.channel.eventLoop.scheduleTask(in: connection.shared.timeouts.login) {
            let connection = bound.value
            connection.perform(connection.machine.refused(.backendUnreachable(address, reason)))
        }
        connection.channel.closeFuture.whenComplete { [deadline] _ in deadline?.cancel() }
        self.session = nil
        self.replies = nil
    }

    /// The database sent something that is not a MongoDB reply.
    func backendBrokeProtocol(_ reason: String) {
        connection.logger.warning("database broke the protocol", metadata: ["reason": "\(reason)"])
        connection.channel.close(promise: nil)
    }
}
