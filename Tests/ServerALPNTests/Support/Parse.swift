import NIOCore
import ServerALPN

/// Shorthands for calling the parser on byte arrays.
enum Parse {
    static func bytes(_ bytes: [UInt8]) -> ClientHelloParser.Result {
        ClientHelloParser.parse(ByteBuffer(bytes: bytes))
    }

    static func string(_ text: String) -> ClientHelloParser.Result {
        ClientHelloParser.parse(ByteBuffer(string: text))
    }
}

extension ClientHelloParser.Result {
    var hello: ClientHello? {
        if case .clientHello(let hello) = self { return hello }
        return nil
    }

    var invalidReason: String? {
        if case .invalid(let reason) = self { return reason }
        return nil
    }

    var needsMoreData: Bool { self == .needMoreData }
}
