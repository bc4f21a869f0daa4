import NIOCore
import ProxyCore
import Testing

/// DESIGN.md section 3 limits: handshake 15 s, database connect 30 s; connection ids.
@Suite struct ProxyTimeoutsTests {
    @Test func defaultsMatchTheDesign() {
        let timeouts = ProxyTimeouts()
        #expect(timeouts.handshake == .seconds(15))
        #expect(timeouts.connect == .seconds(30))
        #expect(ProxyTimeouts(handshake: .seconds(1), connect: .seconds(2)) != timeouts)
    }

    @Test func connectionIDsCountFromOne() {
        let ids = ConnectionIDs()
        #expect((0..<3).map { _ in ids.next() } == [1, 2, 3])
        #expect(ConnectionIDs().next() == 1)
    }

    @Test func connectionIDsAreUniqueAcrossTasks() async {
        let ids = ConnectionIDs()
        let all = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<500).map { _ in ids.next() } }
            }
            var all: [UInt64] = []
            for await part in group { all += part }
            return all
        }
        #expect(Set(all).count == 4000)
        #expect(all.max() == 4000)
    }
}
