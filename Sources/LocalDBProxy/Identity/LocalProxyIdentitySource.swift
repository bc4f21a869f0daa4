import ProxyCore

/// Where the local proxy's certificate comes from once it runs. New connections use the newest
/// material; open connections keep the certificate they were made with.
public enum LocalProxyIdentitySource: Sendable {
    /// The configuration's `tls` material, for the proxy's whole life.
    case fixed
    /// PEM files, re-read when they change. The key file must not be accessible to group or
    /// others (like ssh, the proxy refuses it and says which chmod to run).
    case files(certificate: String, key: String, ca: String?)
    /// A closure that returns fresh material, called when the certificate comes within the
    /// expiry warning window or has expired, e.g. an app that re-issues short-lived
    /// certificates. A failure is logged and the call retried at the next check.
    case provider(@Sendable () async throws -> TLSMaterial)
}
