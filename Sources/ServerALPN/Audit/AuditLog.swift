import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The router's audit log: JSON lines (see `AuditRecord.jsonLine`) to a file or standard output.
///
/// The data path only calls `record(_:)`, which never blocks or awaits: records wait in a
/// bounded queue for one writer task that does the (blocking) file writes off the event loops.
/// When the queue is full the record is dropped; drops are counted (`droppedRecords`) and logged
/// at most once a second with the count.
public final class AuditLog: Sendable {
    public let configuration: AuditConfiguration
    private let logger: Logger
    private let queue: AsyncStream<AuditRecord>
    private let continuation: AsyncStream<AuditRecord>.Continuation
    private let state = NIOLockedValueBox(State())

    private struct State {
        var dropped = 0
        var droppedSinceReport = 0
        var lastReport: NIODeadline?
        var writer: Task<Void, Never>?
    }

    /// Records wait until `start()`; up to `configuration.queueCapacity` of them.
    public init(configuration: AuditConfiguration, logger: Logger = Logger(label: "dbproxy.audit")) {
        self.configuration = configuration
        self.logger = logger
        (queue, continuation) = AsyncStream.makeStream(of: AuditRecord.self, bufferingPolicy: .bufferingOldest(configuration.queueCapacity))
    }

    /// Records dropped because the queue was full.
    public var droppedRecords: Int { state.withLockedValue { $0.dropped } }

    /// Queues `record` for the writer, or drops and counts it when the queue is full (or the
    /// log has shut down). Never blocks.
    public func record(_ record: AuditRecord) {
        switch continuation.yield(record) {
        case .enqueued: return
        case .dropped, .terminated: noteDrop()
        @unknown default: noteDrop()
        }
    }

    private func noteDrop() {
        let now = NIODeadline.now()
        let report = state.withLockedValue { state -> (Int, Int)? in
            state.dropped += 1
            state.droppedSinceReport += 1
            if let last = state.lastReport, now - last < .seconds(1) { return nil }
            state.lastReport = now
            defer { state.droppedSinceReport = 0 }
            return (state.droppedSinceReport, state.dropped)
        }
        if let (count, total) = report {
            logger.warning("audit records dropped: the audit queue is full", metadata: [
                "dropped": "\(count)", "dropped_total": "\(total)", "queue": "\(configuration.queueCapacity)",
            ])
        }
    }

    /// Opens the destination and starts the writer. Throws when the file cannot be opened.
    public func start() throws {
        let sink = try AuditSink(destination: configuration.destination)
        let queue = queue
        let logger = logger
        let writer = Task.detached {
            for await record in queue {
                do {
                    try sink.write(record.jsonLine + "\n")
                } catch {
                    logger.error("cannot write the audit log", metadata: ["error": "\(error)"])
                }
            }
            sink.close()
        }
        state.withLockedValue { $0.writer = writer }
    }

    /// Stops taking records, writes what is queued and closes the file.
    public func shutdown() async {
        continuation.finish()
        let (writer, unreported, total) = state.withLockedValue { state in
            defer { state.droppedSinceReport = 0 }
            return (state.writer, state.droppedSinceReport, state.dropped)
        }
        if unreported > 0 {
            logger.warning("audit records dropped: the audit queue is full", metadata: [
                "dropped": "\(unreported)", "dropped_total": "\(total)", "queue": "\(configuration.queueCapacity)",
            ])
        }
        await writer?.value
    }
}

/// The audit log's open file (or standard output). Used only by the writer task.
struct AuditSink: Sendable {
    private let handle: FileHandle
    private let closes: Bool

    init(destination: AuditConfiguration.Destination) throws {
        switch destination {
        case .standardOutput:
            handle = FileHandle.standardOutput
            closes = false
        case .file(let path):
            if !FileManager.default.fileExists(atPath: path) {
                guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]) else {
                    throw AuditLogError.cannotOpen(path)
                }
            }
            guard let handle = FileHandle(forWritingAtPath: path) else { throw AuditLogError.cannotOpen(path) }
            _ = try handle.seekToEnd()
            self.handle = handle
            closes = true
        }
    }

    func write(_ line: String) throws {
        try handle.write(contentsOf: Data(line.utf8))
    }

    func close() {
        if closes { try? handle.close() }
    }
}

/// Errors opening the audit log.
public enum AuditLogError: Error, CustomStringConvertible {
    case cannotOpen(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path): "cannot open the audit log \"\(path)\" for appending"
        }
    }
}
