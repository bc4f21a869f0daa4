import SwiftASN1

/// Object identifiers of the identity attributes kept in a user certificate's subject.
public enum IdentityAttribute {
    public static let commonName: ASN1ObjectIdentifier = [2, 5, 4, 3]
    public static let organization: ASN1ObjectIdentifier = [2, 5, 4, 10]
    public static let organizationalUnit: ASN1ObjectIdentifier = [2, 5, 4, 11]

    /// RouteToDatabase.ServiceName.
    public static let databaseService: ASN1ObjectIdentifier = [1, 3, 9999, 2, 1]
    /// RouteToDatabase.Protocol.
    public static let databaseProtocol: ASN1ObjectIdentifier = [1, 3, 9999, 2, 2]
    /// RouteToDatabase.Username.
    public static let databaseUser: ASN1ObjectIdentifier = [1, 3, 9999, 2, 3]
    /// RouteToDatabase.Database.
    public static let databaseName: ASN1ObjectIdentifier = [1, 3, 9999, 2, 4]
    /// Allowed database names (repeated).
    public static let allowedDatabaseNames: ASN1ObjectIdentifier = [1, 3, 9999, 2, 5]
    /// Allowed database users (repeated).
    public static let allowedDatabaseUsers: ASN1ObjectIdentifier = [1, 3, 9999, 2, 6]
    /// RouteToDatabase.Roles (repeated).
    public static let databaseRoles: ASN1ObjectIdentifier = [1, 3, 9999, 2, 19]
    /// The name of the cluster that issued the certificate.
    public static let clusterName: ASN1ObjectIdentifier = [1, 3, 9999, 1, 7]

    /// The usage value that admits a certificate to database routes.
    public static let databaseUsage = "usage:db"
}
