import Foundation

/// Decides, at each check, which certificate lifecycle events are due: a warning once when the
/// certificate enters the warning window, an expiry notice once when it expires, and whether a
/// provider should be asked for fresh material. Pure; the refresher acts on its answers.
struct CertificateExpiryWatch: Sendable {
    enum Notice: Equatable, Sendable {
        case expiring(remaining: Duration)
        case expired
    }

    private(set) var notAfter: Date
    let warningWindow: Duration
    private var warned = false
    private var expiredNoticeSent = false

    init(notAfter: Date, warningWindow: Duration) {
        self.notAfter = notAfter
        self.warningWindow = warningWindow
    }

    /// New material is in use: notices start over.
    mutating func renewed(notAfter: Date) {
        self.notAfter = notAfter
        warned = false
        expiredNoticeSent = false
    }

    /// The notice due at `now`, if any (each is given once per certificate).
    mutating func check(at now: Date) -> Notice? {
        let remaining = Duration.seconds(notAfter.timeIntervalSince(now))
        if remaining <= .zero {
            guard !expiredNoticeSent else { return nil }
            expiredNoticeSent = true
            warned = true
            return .expired
        }
        if remaining <= warningWindow, !warned {
            warned = true
            return .expiring(remaining: remaining)
        }
        return nil
    }

    /// Whether a provider should be asked for new material now.
    func wantsRenewal(at now: Date) -> Bool {
        Duration.seconds(notAfter.timeIntervalSince(now)) <= warningWindow
    }
}
