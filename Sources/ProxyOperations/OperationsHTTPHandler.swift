import NIOCore
import NIOHTTP1

/// Serves one request per connection: looks the path up in the routes, answers 404 for an
/// unknown path, 405 for a method other than GET, 413 for a body over the limit, 408 when the
/// request is not complete within the timeout, then closes. Closes on a decoding error (the
/// `HTTPServerProtocolErrorHandler` before it has answered 400).
final class OperationsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: [String: OperationsRoute]
    private let maxBodyBytes: Int
    private let requestTimeout: TimeAmount
    private var pending: (head: HTTPRequestHead, bodyBytes: Int)?
    private var answered = false
    private var active = true
    private var timer: Scheduled<Void>?

    init(routes: [String: OperationsRoute], maxBodyBytes: Int, requestTimeout: TimeAmount) {
        self.routes = routes
        self.maxBodyBytes = maxBodyBytes
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: requestTimeout) { [self] in
            guard !answered else { return }
            respond(context: context, .text(.requestTimeout, "request not received within \(requestTimeout)\n"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        cancelTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        active = false
        cancelTimer()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answered = true
        cancelTimer()
        context.close(promise: nil)
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            pending = (head, 0)
        case .body(let buffer):
            guard var request = pending else { return }
            request.bodyBytes += buffer.readableBytes
            pending = request
            if request.bodyBytes > maxBodyBytes {
                respond(context: context, .text(.payloadTooLarge, "request body exceeds \(maxBodyBytes) bytes\n"))
            }
        case .end:
            guard let request = pending else { return }
            dispatch(context: context, head: request.head)
        }
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let request = OperationsRequest(target: head.uri, headers: head.headers)
        cancelTimer()
        guard let route = routes[request.path] else {
            return respond(context: context, .text(.notFound, "no such endpoint: \(request.path)\n"))
        }
        guard head.method == .GET else {
            return respond(context: context, .text(.methodNotAllowed, "only GET is served\n"), extraHeaders: [("Allow", "GET")])
        }
        answered = true
        context.eventLoop.makeFutureWithTask { await route(request) }
            .assumeIsolated()
            .whenSuccess { [self] response in respond(context: context, response) }
    }

    private func respond(context: ChannelHandlerContext, _ response: OperationsResponse, extraHeaders: [(String, String)] = []) {
        answered = true
        cancelTimer()
        guard active else { return }
        var headers = HTTPHeaders([
            ("Content-Type", response.contentType),
            ("Content-Length", String(response.body.readableBytes)),
            ("Connection", "close"),
        ])
        headers.add(contentsOf: extraHeaders)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
