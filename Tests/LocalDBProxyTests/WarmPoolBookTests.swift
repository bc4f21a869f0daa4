import Testing

@testable import LocalDBProxy

@Suite("Warm pool bookkeeping")
struct WarmPoolBookTests {
    private typealias Book = WarmPoolBook<String>
    private let t0 = ContinuousClock.now

    private func dials(_ plan: Book.Plan) -> [Book.Dial] {
        if case .dial(let dials) = plan { return dials }
        return []
    }

    /// A book with every planned dial completed at `at`, connections named "c<id>".
    private func filled(targets: [Int], maxAge: Duration = .seconds(20), generation: UInt64 = 0, at: ContinuousClock.Instant) -> Book {
        var book = Book(targets: targets, maxAge: maxAge, generation: generation, maxDialing: 16)
        for dial in dials(book.plan(at: at)) {
            let check1 = book.dialed(dial.id, "c\(dial.id)", at: at)
            #expect(check1)
        }
        return book
    }

    @Test("targets spread the pool over the event loops, the first ones taking the remainder")
    func targets() {
        #expect(Book.targets(total: 4, slots: 2) == [2, 2])
        #expect(Book.targets(total: 5, slots: 2) == [3, 2])
        #expect(Book.targets(total: 1, slots: 3) == [1, 0, 0])
        #expect(Book.targets(total: 0, slots: 2) == [0, 0])
        #expect(Book.targets(total: 3, slots: 0) == [])
    }

    @Test("the plan dials what each slot lacks, at most maxDialing at a time, and nothing while dials cover it")
    func planning() {
        var book = Book(targets: [3, 2], maxAge: .seconds(20), generation: 0, maxDialing: 4)
        let first = dials(book.plan(at: t0))
        #expect(first.count == 4)
        #expect(first.filter { $0.slot == 0 }.count == 3)
        #expect(book.dialingCount == 4)
        let check2 = book.plan(at: t0) == .idle
        #expect(check2)
        let check3 = book.dialed(first[0].id, "a", at: t0)
        #expect(check3)
        let second = dials(book.plan(at: t0))
        #expect(second.map(\.slot) == [1])
        let check4 = book.plan(at: t0) == .idle
        #expect(check4)
    }

    @Test("take hands out the newest ready connection of the client's slot and counts hits and misses")
    func take() {
        var book = filled(targets: [2, 1], at: t0)
        #expect(book.readyCount == 3)
        let (first, discard) = book.take(slot: 0, generation: 0, at: t0 + .seconds(1))
        #expect(first == "c2")
        #expect(discard.isEmpty)
        #expect(book.readyCount(slot: 0, generation: 0) == 1)
        #expect(book.readyCount(slot: 1, generation: 0) == 1)
        #expect(book.readyCount(slot: 0, generation: 1) == 0)
        let check5 = book.take(slot: 0, generation: 0, at: t0 + .seconds(1)).taken == "c1"
        #expect(check5)
        #expect(book.readyCount(slot: 0, generation: 0) == 0)
        let check6 = book.take(slot: 0, generation: 0, at: t0 + .seconds(1)).taken == nil
        #expect(check6)
        let check7 = book.take(slot: 1, generation: 0, at: t0 + .seconds(1)).taken == "c3"
        #expect(check7)
        #expect(book.counters.taken == 3)
        #expect(book.counters.missed == 1)
        let check8 = dials(book.plan(at: t0 + .seconds(1))).count == 3
        #expect(check8)
    }

    @Test("connections at the maximum age are removed, never handed out, and are replaced")
    func expiry() {
        var book = filled(targets: [2], maxAge: .seconds(20), at: t0)
        #expect(book.nextExpiry == t0 + .seconds(20))
        let check9 = book.expire(at: t0 + .seconds(19)).isEmpty
        #expect(check9)
        let check10 = book.expire(at: t0 + .seconds(20)).sorted() == ["c1", "c2"]
        #expect(check10)
        #expect(book.counters.expired == 2)
        #expect(book.nextExpiry == nil)

        var other = filled(targets: [1], maxAge: .seconds(20), at: t0)
        let (taken, discard) = other.take(slot: 0, generation: 0, at: t0 + .seconds(25))
        #expect(taken == nil)
        #expect(discard == ["c1"])
        let check11 = dials(other.plan(at: t0 + .seconds(25))).count == 1
        #expect(check11)
    }

    @Test("a new certificate generation drains the pool, and dials made with the old one are discarded")
    func generation() {
        var book = Book(targets: [2], maxAge: .seconds(20), generation: 0, maxDialing: 16)
        let planned = dials(book.plan(at: t0))
        let check12 = book.dialed(planned[0].id, "old", at: t0)
        #expect(check12)
        // The certificate changes while the second dial is under way.
        let check13 = book.renew(generation: 1) == ["old"]
        #expect(check13)
        let check14 = !book.dialed(planned[1].id, "old-late", at: t0)
        #expect(check14)
        #expect(book.counters.drained == 2)
        let fresh = dials(book.plan(at: t0))
        #expect(fresh.count == 2)
        #expect(fresh.allSatisfy { $0.generation == 1 })
        for dial in fresh {
            let kept = book.dialed(dial.id, "new", at: t0)
            #expect(kept)
        }
        // A client holding an older identity gets nothing; one with the new identity gets "new".
        let check16 = book.take(slot: 0, generation: 0, at: t0).taken == nil
        #expect(check16)
        let check17 = book.take(slot: 0, generation: 1, at: t0).taken == "new"
        #expect(check17)
    }

    @Test("a client already on a newer generation drains the pool when it takes")
    func takeWithNewerGeneration() {
        var book = filled(targets: [2], at: t0)
        let (taken, discard) = book.take(slot: 0, generation: 3, at: t0)
        #expect(taken == nil)
        #expect(discard.sorted() == ["c1", "c2"])
        #expect(book.generation == 3)
    }

    @Test("failed dials back off exponentially up to the cap; a single wake-up is planned per wait")
    func backoff() {
        var book = Book(targets: [1], maxAge: .seconds(20), generation: 0, maxDialing: 1,
                        firstBackoff: .milliseconds(100), maxBackoff: .seconds(1))
        var now = t0
        var waits: [Duration] = []
        for attempt in 0..<6 {
            let planned = dials(book.plan(at: now))
            #expect(planned.count == 1, "attempt \(attempt)")
            guard let dial = planned.first else { return }
            let check18 = book.dialFailed(dial.id, at: now) == (attempt == 0)
            #expect(check18)
            guard case .wakeUp(let at) = book.plan(at: now) else {
                Issue.record("no wake-up after a failure")
                return
            }
            let check19 = book.plan(at: now) == .idle
            #expect(check19)
            waits.append(now.duration(to: at))
            book.wokeUp()
            now = at
        }
        #expect(waits == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        #expect(book.counters.dialFailures == 6)
    }

    @Test("connections the router closes while pooled count as failures until one proves usable")
    func lostConnections() {
        var book = filled(targets: [1], at: t0)
        let check20 = book.lost(1, at: t0)
        #expect(check20)
        let check21 = !book.lost(1, at: t0)
        #expect(check21)
        #expect(book.counters.lost == 1)
        #expect(book.failures == 1)
        // No redial before the backoff has passed: a router that closes every connection is
        // not hammered.
        guard case .wakeUp = book.plan(at: t0) else {
            Issue.record("expected a wake-up")
            return
        }
        book.wokeUp()
        let later = t0 + .seconds(1)
        let redial = dials(book.plan(at: later))
        #expect(redial.count == 1)
        let check22 = book.dialed(redial[0].id, "again", at: later)
        #expect(check22)
        #expect(book.failures == 1)
        let check23 = book.take(slot: 0, generation: 0, at: later).taken == "again"
        #expect(check23)
        #expect(book.failures == 0)
    }

    @Test("however many dials fail or pauses come, one wake-up at a time is pending; it plans the next when still early")
    func singleWakeUp() {
        var book = Book(targets: [4], maxAge: .seconds(20), generation: 0, maxDialing: 4,
                        firstBackoff: .milliseconds(100), maxBackoff: .seconds(5))
        let planned = dials(book.plan(at: t0))
        #expect(planned.count == 4)
        var wakeUps: [ContinuousClock.Instant] = []
        for dial in planned {
            book.dialFailed(dial.id, at: t0)
            book.pause(until: t0 + .milliseconds(50))
            if case .wakeUp(let at) = book.plan(at: t0) { wakeUps.append(at) }
        }
        #expect(wakeUps == [t0 + .milliseconds(100)])
        // Four failures in a row: the backoff is 800 ms by now, so the wake-up comes early and
        // plans one more, once.
        book.wokeUp()
        let again = book.plan(at: t0 + .milliseconds(100))
        #expect(again == .wakeUp(at: t0 + .milliseconds(800)))
        let idle = book.plan(at: t0 + .milliseconds(100))
        #expect(idle == .idle)
        book.wokeUp()
        #expect(dials(book.plan(at: t0 + .milliseconds(800))).count == 4)
    }

    @Test("a pause holds dials back without counting a failure")
    func pause() {
        var book = Book(targets: [1], maxAge: .seconds(20), generation: 0)
        book.pause(until: t0 + .seconds(2))
        let check24 = book.plan(at: t0) == .wakeUp(at: t0 + .seconds(2))
        #expect(check24)
        book.wokeUp()
        let check25 = dials(book.plan(at: t0 + .seconds(2))).count == 1
        #expect(check25)
        #expect(book.failures == 0)
    }

    @Test("stop returns every ready connection, plans nothing more and refuses late dials")
    func stop() {
        var book = Book(targets: [2], maxAge: .seconds(20), generation: 0, maxDialing: 16)
        let planned = dials(book.plan(at: t0))
        let check26 = book.dialed(planned[0].id, "a", at: t0)
        #expect(check26)
        let check27 = book.stop() == ["a"]
        #expect(check27)
        let check28 = !book.dialed(planned[1].id, "b", at: t0)
        #expect(check28)
        let check29 = book.plan(at: t0) == .idle
        #expect(check29)
        let check30 = book.take(slot: 0, generation: 0, at: t0).taken == nil
        #expect(check30)
    }
}
