import ProxyCore
import NIOCore
@testable import ServerALPN

/// Readable views of the state machine's actions (the action type is not Equatable).
extension RouterConnectionStateMachine.Action {
    var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    var isSplice: Bool {
        if case .splice = self { return true }
        return false
    }

    var rejection: RouterRejection? {
        if case .reject(let reason) = self { return reason }
        return nil
    }

    var terminated: (selection: RouteTable.Selection, replay: ByteBuffer)? {
        if case .terminateTLS(let selection, let replay) = self { return (selection, replay) }
        return nil
    }

    var passThrough: (target: HostAndPort, replay: ByteBuffer)? {
        if case .passThroughTLS(let target, let replay) = self { return (target, replay) }
        return nil
    }

    var destination: RouteTable.Destination? {
        if case .connect(let destination) = self { return destination }
        return nil
    }
}

extension RouterConnectionStateMachine {
    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    var isSpliced: Bool {
        if case .spliced = state { return true }
        return false
    }

    var isReadingClientHello: Bool {
        if case .readingClientHello = state { return true }
        return false
    }
}
