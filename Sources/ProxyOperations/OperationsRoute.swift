import NIOCore
import NIOHTTP1

/// A GET request to an `OperationsServer`, as a route sees it.
public struct OperationsRequest: Sendable {
    /// The path without the query, e.g. `/metrics`.
    public var path: String
    /// The text after `?`, when there is one.
    public var query: String?
    /// The request's header fields.
    public var headers: HTTPHeaders

    /// A request from its parts.
    public init(path: String, query: String? = nil, headers: HTTPHeaders = [:]) {
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// Splits a request target (`/metrics?x=1`) into path and query.
    init(target: String, headers: HTTPHeaders) {
        if let mark = target.firstIndex(of: "?") {
            self.init(path: String(target[..<mark]), query: String(target[target.index(after: mark)...]), headers: headers)
        } else {
            self.init(path: target, headers: headers)
        }
    }
}

/// What a route answers: a status, a content type and a body. The server adds
/// `Content-Length` and `Connection: close`.
public struct OperationsResponse: Sendable {
    /// The HTTP status, e.g. `.ok` or `.serviceUnavailable`.
    public var status: HTTPResponseStatus
    /// The `Content-Type` header's value.
    public var contentType: String
    /// The body, sent as is with its length.
    public var body: ByteBuffer

    /// A response from its parts.
    public init(status: HTTPResponseStatus, contentType: String, body: ByteBuffer) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// A `text/plain` response.
    public static func text(_ status: HTTPResponseStatus, _ body: String) -> OperationsResponse {
        OperationsResponse(status: status, contentType: "text/plain; charset=utf-8", body: ByteBuffer(string: body))
    }

    /// Content type of the Prometheus text exposition format.
    public static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// Answers a GET request for one path. Runs outside the event loop, so it may await.
public typealias OperationsRoute = @Sendable (OperationsRequest) async -> OperationsResponse
