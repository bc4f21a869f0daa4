import FuzzSupport
import Foundation
import ProxyCore
import SwiftASN1
import X509

// Identity from a DER certificate (what the router reads from every verified client
// certificate, and the local proxy from its own). Invariants: a certificate that parses
// re-serializes to its own DER and yields the same identity again; the identity's derived values
// (protocol, admitted users and names) are computed without trapping; PEM text reads the same way.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIdentity(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let der = Array(UnsafeRawBufferPointer(start: start, count: count))
    if der.starts(with: Array("-----BEGIN".utf8)) {
        if let text = String(validating: der, as: UTF8.self), let identity = try? CertificateIdentity(pemEncoded: text) {
            checkDerived(identity)
        }
        return 0
    }
    guard let certificate = try? Certificate(derEncoded: der) else { return 0 }
    let identity: CertificateIdentity
    do {
        identity = try CertificateIdentity(certificate: certificate)
    } catch {
        _ = error.description
        return 0
    }
    checkDerived(identity)
    var serializer = DER.Serializer()
    do {
        try serializer.serialize(certificate)
    } catch {
        require(false, "a parsed certificate does not serialize: \(error)")
    }
    let reparsed = try? Certificate(derEncoded: serializer.serializedBytes)
    require(reparsed == certificate, "certificate does not survive re-serialization")
    if let reparsed {
        require((try? CertificateIdentity(certificate: reparsed)) == identity, "identity differs after re-serialization")
    }
    return 0
}

func checkDerived(_ identity: CertificateIdentity) {
    _ = try? identity.databaseProtocol()
    _ = try? identity.checkValidity(at: Date(timeIntervalSince1970: 1_800_000_000))
    let users = identity.admittedDatabaseUsers
    let names = identity.admittedDatabaseNames
    require(Set(users).count == users.count && !users.contains(""), "admitted users repeat or hold an empty name: \(users)")
    require(Set(names).count == names.count && !names.contains(""), "admitted names repeat or hold an empty name: \(names)")
    require(identity.routeToDatabase.username.isEmpty || users.first == identity.routeToDatabase.username, "the route's user is not admitted first")
}
