import Foundation
import Logging
import NIOConcurrencyHelpers
import ProxyCore

/// Keeps a local proxy's certificate current while it runs: re-reads certificate files when
/// they change, asks a provider for fresh material near expiry, and reports the certificate's
/// approaching and passed expiry once each (log line and event).
final class CertificateRefresher: Sendable {
    private let source: LocalProxyIdentitySource
    private let current: NIOLockedValueBox<CurrentIdentity>
    private let applicationProtocols: [ALPNProtocol]
    private let databaseProtocol: DatabaseProtocol
    private let insecure: Bool
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let emit: @Sendable (LocalProxyEvent) -> Void
    private let onInstall: @Sendable () -> Void
    private let state: NIOLockedValueBox<State>

    private struct State {
        var watch: CertificateExpiryWatch
        /// Fingerprints of the files the current material came from.
        var loaded: [FileFingerprint?] = []
        /// The fingerprints a reload last failed on, so each failure is logged once.
        var failedOn: [FileFingerprint?]?
    }

    init(
        source: LocalProxyIdentitySource, current: NIOLockedValueBox<CurrentIdentity>, applicationProtocols: [ALPNProtocol],
        databaseProtocol: DatabaseProtocol, insecure: Bool, expiryWarning: Duration, logger: Logger,
        now: @escaping @Sendable () -> Date, emit: @escaping @Sendable (LocalProxyEvent) -> Void,
        onInstall: @escaping @Sendable () -> Void = {}
    ) {
        self.onInstall = onInstall
        self.source = source
        self.current = current
        self.applicationProtocols = applicationProtocols
        self.databaseProtocol = databaseProtocol
        self.insecure = insecure
        self.logger = logger
        self.now = now
        self.emit = emit
        let notAfter = current.withLockedValue { $0.identity.notAfter }
        var state = State(watch: CertificateExpiryWatch(notAfter: notAfter, warningWindow: expiryWarning))
        if case .files(let certificate, let key, let ca) = source {
            state.loaded = Self.fingerprints(certificate, key, ca)
        }
        self.state = NIOLockedValueBox(state)
    }

    /// Checks every `interval` until the task is cancelled.
    func run(every interval: Duration) async {
        while !Task.isCancelled {
            await check()
            try? await Task.sleep(for: interval)
        }
    }

    /// One round: reload what changed, then report expiry.
    func check() async {
        switch source {
        case .fixed:
            break
        case .files(let certificate, let key, let ca):
            reloadFilesIfChanged(certificate: certificate, key: key, ca: ca)
        case .provider(let provide):
            if state.withLockedValue({ $0.watch.wantsRenewal(at: now()) }) {
                do {
                    try install(try await provide(), from: "the identity provider")
                } catch {
                    logger.warning("identity provider failed; will ask again", metadata: ["error": "\(error)"])
                }
            }
        }
        reportExpiry()
    }

    private func reloadFilesIfChanged(certificate: String, key: String, ca: String?) {
        let seen = Self.fingerprints(certificate, key, ca)
        let (changed, alreadyFailed) = state.withLockedValue { ($0.loaded != seen, $0.failedOn == seen) }
        guard changed, !seen.contains(nil) else { return }
        do {
            try KeyFilePermissions.check(key)
            let material = try TLSMaterial.load(certificateFile: certificate, keyFile: key, caFile: ca)
            try install(material, from: certificate)
            state.withLockedValue {
                $0.loaded = seen
                $0.failedOn = nil
            }
        } catch {
            state.withLockedValue { $0.failedOn = seen }
            if !alreadyFailed {
                logger.warning("certificate files changed but cannot be used yet; keeping the current certificate", metadata: [
                    "file": "\(certificate)", "error": "\(error)",
                ])
            }
        }
    }

    /// Puts `material` in place for new connections.
    private func install(_ material: TLSMaterial, from origin: String) throws {
        var next = try CurrentIdentity(material: material, applicationProtocols: applicationProtocols, insecure: insecure)
        let named = try? next.identity.databaseProtocol()
        guard named == nil || named == databaseProtocol else {
            throw CertificateReloadError.protocolChanged(from: databaseProtocol, to: next.identity.routeToDatabase.protocolName)
        }
        current.withLockedValue { previous in
            next.generation = previous.generation + 1
            previous = next
        }
        onInstall()
        state.withLockedValue { $0.watch.renewed(notAfter: next.identity.notAfter) }
        logger.notice("certificate reloaded", metadata: [
            "from": "\(origin)", "serial": "\(next.identity.serialNumber)",
            "not_after": "\(Timestamp.format(next.identity.notAfter))",
        ])
        emit(.certificateReloaded(notAfter: next.identity.notAfter, serialNumber: next.identity.serialNumber))
    }

    private func reportExpiry() {
        let (notice, notAfter) = state.withLockedValue { ($0.watch.check(at: now()), $0.watch.notAfter) }
        switch notice {
        case .expiring(let remaining):
            logger.warning("certificate expires soon; renew it", metadata: [
                "not_after": "\(Timestamp.format(notAfter))", "remaining": "\(DurationText.format(.seconds(remaining.components.seconds)))",
            ])
            emit(.certificateExpiring(notAfter: notAfter, remaining: remaining))
        case .expired:
            logger.error("certificate expired; new connections are refused until it is renewed", metadata: [
                "not_after": "\(Timestamp.format(notAfter))",
            ])
            emit(.certificateExpired(notAfter: notAfter))
        case nil:
            break
        }
    }

    private static func fingerprints(_ certificate: String, _ key: String, _ ca: String?) -> [FileFingerprint?] {
        [FileFingerprint(path: certificate), FileFingerprint(path: key)] + (ca.map { [FileFingerprint(path: $0)] } ?? [])
    }
}

/// Why new certificate material was not put in place.
enum CertificateReloadError: Error, CustomStringConvertible {
    case protocolChanged(from: DatabaseProtocol, to: String)

    var description: String {
        switch self {
        case .protocolChanged(let from, let to):
            "the new certificate is for protocol \"\(to)\", the proxy speaks \(from); restart it to switch"
        }
    }
}
