import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program running in the background (the built `dbproxy`, a psql session ...) whose standard
/// output and standard error are collected as they come, so a test can wait for a line, send
/// signals and wait for the exit. Started like `Command.run`: empty signal mask, default handlers.
final class CLIProcess: @unchecked Sendable {
    enum Stream: Sendable { case stdout, stderr }

    let pid: pid_t
    let arguments: [String]
    private let lock = NSLock()
    private var collected: [Stream: Data] = [.stdout: Data(), .stderr: Data()]
    private var exitStatus: Int32?
    private var finished: Set<Stream> = []

    private init(pid: pid_t, arguments: [String]) {
        self.pid = pid
        self.arguments = arguments
    }

    /// Starts `arguments` (looked up on PATH) with standard input from /dev/null.
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> CLIProcess {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard pipe(&out) == 0, pipe(&err) == 0 else { throw CLIFailure(what: "pipe: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for descriptor in out + err { posix_spawn_file_actions_addclose(&actions, descriptor) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, envp)
        close(out[1])
        close(err[1])
        guard spawned == 0 else {
            close(out[0])
            close(err[0])
            throw CLIFailure(what: "posix_spawn \(arguments.first ?? ""): error \(spawned)")
        }
        let process = CLIProcess(pid: pid, arguments: arguments)
        process.collect(out[0], into: .stdout)
        process.collect(err[0], into: .stderr)
        return process
    }

    private func collect(_ descriptor: Int32, into stream: Stream) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                lock.withLock { collected[stream, default: Data()].append(contentsOf: buffer[0..<count]) }
            }
            close(descriptor)
            lock.withLock { _ = finished.insert(stream) }
        }
    }

    /// Everything the program wrote to `stream` so far.
    func output(_ stream: Stream = .stdout) -> String {
        lock.withLock { String(decoding: collected[stream] ?? Data(), as: UTF8.self) }
    }

    /// Both streams, for failure messages.
    var transcript: String {
        "\(arguments.joined(separator: " "))\n--- stdout\n\(output(.stdout))--- stderr\n\(output(.stderr))"
    }

    /// Waits until a line of `stream` contains `text`; returns that line.
    @discardableResult
    func line(containing text: String, in stream: Stream = .stdout, timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let ended = isFinished(stream)
            var lines = output(stream).split(separator: "\n", omittingEmptySubsequences: false)
            if !ended { lines = lines.dropLast() }  // the last line may still grow
            if let found = lines.first(where: { $0.contains(text) }) { return String(found) }
            if ended { throw TestTimeout(what: "the output ended without a line containing \"\(text)\"\n\(transcript)") }
            guard ContinuousClock.now < deadline else {
                throw TestTimeout(what: "no line containing \"\(text)\" within \(timeout)\n\(transcript)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func isFinished(_ stream: Stream) -> Bool {
        lock.withLock { finished.contains(stream) }
    }

    /// Sends `number` (SIGTERM, SIGINT ...).
    func send(_ number: Int32) {
        _ = kill(pid, number)
    }

    /// Whether the program has ended (reaps it when it has).
    func exited() -> Bool {
        lock.withLock {
            if exitStatus != nil { return true }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return false }
            let signalled = status & 0x7f
            exitStatus = signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
            return true
        }
    }

    /// Waits for the program to end; returns its exit status (128 + signal when killed).
    func exitStatus(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while !exited() {
            guard ContinuousClock.now < deadline else {
                throw TestTimeout(what: "\(arguments.first ?? "the program") did not exit within \(timeout)\n\(transcript)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Let the readers take the last bytes (a child that outlives the program may keep the pipes open).
        let drained = ContinuousClock.now + .seconds(2)
        while !(isFinished(.stdout) && isFinished(.stderr)), ContinuousClock.now < drained {
            try await Task.sleep(for: .milliseconds(10))
        }
        return lock.withLock { exitStatus ?? -1 }
    }

    /// What a program that ran to its end wrote, and its status.
    struct Finished: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Both streams, standard output first.
        var output: String { stdout + stderr }
    }

    /// Runs `arguments` to the end without holding a thread of the concurrency pool.
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)) async throws -> Finished {
        let process = try start(arguments, environment: environment)
        defer { process.terminate() }
        let status = try await process.exitStatus(timeout: timeout)
        return Finished(status: status, stdout: process.output(.stdout), stderr: process.output(.stderr))
    }

    /// Kills the program if it still runs, and reaps it. For `defer`.
    func terminate() {
        guard !exited() else { return }
        send(SIGKILL)
        lock.withLock {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
            exitStatus = 128 + SIGKILL
        }
    }
}
