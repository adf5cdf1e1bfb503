import Foundation
import Queue

/// The behaviour every store backend must show, write side (``JobQueue``) and read side
/// (``RunReader``). A backend's test target runs every check in ``all`` with a factory
/// that opens a fresh, empty store whose clock is the given ``ConformanceClock``:
///
///     for (name, check) in QueueConformance.all {
///         try await check { clock in try MyStore(fresh: …, clock: { clock.now }) }
///     }
///
/// Time only moves when a check advances the clock, so leases and backoffs are tested
/// without sleeping.
public enum QueueConformance {
    public typealias Factory = @Sendable (ConformanceClock) async throws -> any RunStore

    public static func jobs(_ estimates: [Double]) -> [NewJob] {
        estimates.enumerated().map { NewJob(name: "job-\($0.offset)", estimatedSeconds: $0.element) }
    }

    /// Longest estimate first, ties by enqueue order; nil when nothing is queued.
    static func claimsLongestFirst(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun(name: "order"))
        let ids = try await queue.enqueue(jobs([1, 5, 3, 5, 0]), into: run.id)
        var order: [JobID] = []
        while let claim = try await queue.claim(run: run.id, worker: "w", lease: 60) {
            order.append(claim.jobID)
            try check(claim.attempt == 1)
        }
        try check(order == [ids[1], ids[3], ids[2], ids[0], ids[4]])
        try check(try await queue.claim(run: run.id, worker: "w", lease: 60) == nil)
    }

    /// Claims from many tasks at once: every job exactly once.
    static func concurrentClaimsAreExclusive(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue(jobs(Array(repeating: 1, count: 300)), into: run.id)
        let claimed = try await withThrowingTaskGroup(of: [JobID].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var mine: [JobID] = []
                    while let claim = try await queue.claim(run: run.id, worker: "w\(worker)", lease: 60) {
                        mine.append(claim.jobID)
                        try check(try await queue.complete(claim))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        try check(claimed.count == 300)
        try check(Set(claimed).count == 300)
        try check(try await queue.counts(run: run.id)[.done] == 300)
    }

    /// Jobs of another run are never claimed.
    static func claimsStayInTheirRun(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let first = try await queue.createRun(NewRun())
        let second = try await queue.createRun(NewRun())
        try await queue.enqueue(jobs([1]), into: first.id)
        try check(try await queue.claim(run: second.id, worker: "w", lease: 60) == nil)
        try check(try await queue.claim(run: first.id, worker: "w", lease: 60)?.runID == first.id)
    }

    /// An expired lease sends the job back with attempt + 1; the old owner's writes then fail.
    static func expiredLeaseIsReclaimedAndStaleWritesIgnored(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        let ids = try await queue.enqueue([NewJob(name: "j", tests: [NewTest(nodeid: "t::a")])], into: run.id)
        let stale = try unwrap(try await queue.claim(run: run.id, worker: "old", lease: 0.2))
        let tests = try await queue.pendingTests(of: stale)
        try check(try await queue.reclaimExpired() == 0)
        clock.advance(0.4)
        try check(try await queue.reclaimExpired() == 1)
        try check(try await queue.reclaimExpired() == 0, "reclaim is idempotent")
        let fresh = try unwrap(try await queue.claim(run: run.id, worker: "new", lease: 60))
        try check(fresh.jobID == ids[0])
        try check(fresh.attempt == 2)
        try check(try await queue.heartbeat(stale, lease: 60) == false)
        try check(try await queue.record([TestResult(testID: tests[0].testID, attempt: 1, outcome: .failed)],
                                       for: stale, worker: "old") == false)
        try check(try await queue.complete(stale) == false)
        try check(try await queue.fail(stale, error: "late", retry: RetryPolicy()) == false)
        try check(try await queue.release(stale) == false)
        try check(try await queue.pendingTests(of: fresh).map(\.nodeid) == ["t::a"], "the stale result was not written")
        try check(try await queue.complete(fresh))
        try check(try await queue.counts(run: run.id)[.done] == 1)
    }

    /// Heartbeats keep a lease alive past its first expiry.
    static func heartbeatExtendsLease(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue(jobs([1]), into: run.id)
        let claim = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 0.3))
        for _ in 0..<4 {
            clock.advance(0.15)
            try check(try await queue.heartbeat(claim, lease: 0.3))
        }
        try check(try await queue.reclaimExpired() == 0)
        try check(try await queue.complete(claim))
    }

    /// After `maxAttempts` expiries the job is dead, not retried forever.
    static func jobDiesAfterMaxAttempts(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue([NewJob(name: "j", maxAttempts: 2)], into: run.id)
        for attempt in 1...2 {
            let claim = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 0.05))
            try check(claim.attempt == attempt)
            clock.advance(0.1)
            try check(try await queue.reclaimExpired() == 1)
        }
        try check(try await queue.claim(run: run.id, worker: "w", lease: 1) == nil)
        try check(try await queue.counts(run: run.id)[.dead] == 1)
    }

    /// A failed job waits out its backoff, then fails for good after its last attempt.
    static func failRetriesWithBackoff(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue([NewJob(name: "j", maxAttempts: 2)], into: run.id)
        let first = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 60))
        try check(try await queue.fail(first, error: "pytest missing", retry: RetryPolicy(baseDelay: 0.4, maxDelay: 1)))
        try check(try await queue.claim(run: run.id, worker: "w", lease: 60) == nil, "still backing off")
        clock.advance(0.6)
        let second = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 60))
        try check(second.attempt == 2)
        try check(try await queue.fail(second, error: "again", retry: RetryPolicy(baseDelay: 0, maxDelay: 0)))
        try check(try await queue.claim(run: run.id, worker: "w", lease: 60) == nil)
        try check(try await queue.counts(run: run.id)[.failed] == 1)
    }

    /// A released job comes back without spending an attempt.
    static func releaseKeepsAttempt(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue(jobs([1]), into: run.id)
        let claim = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 60))
        try check(try await queue.release(claim))
        let again = try unwrap(try await queue.claim(run: run.id, worker: "w2", lease: 60))
        try check(again.attempt == 1)
        try check(again.owner == "w2")
    }

    /// Completing with follow-ups enqueues them atomically; completeAndClaim hands over the next job.
    static func completeEnqueuesFollowUps(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue([NewJob(name: "a", estimatedSeconds: 2, tests: [NewTest(nodeid: "x::1"), NewTest(nodeid: "x::2")])],
                                into: run.id)
        let claim = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 60))
        let rest = NewJob(name: "a (rest)", estimatedSeconds: 1, tests: [NewTest(nodeid: "x::2", attempt: 1)])
        let handover = try await queue.completeAndClaim(claim, followUps: [rest], lease: 60)
        try check(handover.completed)
        let next = try unwrap(handover.next)
        try check(next.name == "a (rest)")
        try check(try await queue.pendingTests(of: next).map(\.nodeid) == ["x::2"])
        let last = try await queue.completeAndClaim(next, followUps: [], lease: 60)
        try check(last.completed && last.next == nil)
        try check(try await queue.counts(run: run.id)[.done] == 2)
    }

    /// Recorded results are skipped by pendingTests; a later attempt is pending again.
    static func pendingTestsSkipRecorded(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        let tests = (0..<5).map { NewTest(nodeid: "f.py::t\($0)", file: "f.py", marks: ["m"]) }
        try await queue.enqueue([NewJob(name: "j", tests: tests)], into: run.id)
        let claim = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 60))
        let pending = try await queue.pendingTests(of: claim)
        try check(pending.map(\.nodeid) == tests.map(\.nodeid))
        try check(pending.allSatisfy { $0.file == "f.py" && $0.attempt == 1 })
        let results = pending.prefix(2).map { TestResult(testID: $0.testID, attempt: 1, outcome: .passed, duration: 0.5) }
        try check(try await queue.record(results, for: claim, worker: "w"))
        try check(try await queue.pendingTests(of: claim).map(\.nodeid) == ["f.py::t2", "f.py::t3", "f.py::t4"])
    }

    /// Cancel stops queued jobs; a running job whose lease expires afterwards is cancelled, not requeued.
    static func cancelStopsTheRun(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue(jobs([3, 2, 1]), into: run.id)
        _ = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 0.1))
        try check(try await queue.cancel(run: run.id) == 2)
        clock.advance(0.2)
        try check(try await queue.reclaimExpired() == 1)
        let counts = try await queue.counts(run: run.id)
        try check(counts[.cancelled] == 3)
        try check(counts.open == 0)
    }

    /// A job of whole files learns its tests while it runs; only its holder may add them.
    static func registerAddsTestsToTheHeldJob(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue([NewJob(name: "files", payload: #"{"files":["a.py"]}"#)], into: run.id)
        let claim = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 60))
        try check(try await queue.testCount(of: claim) == 0)
        let registered = try unwrap(try await queue.register(
            [NewTest(nodeid: "a.py::x", file: "a.py"), NewTest(nodeid: "a.py::y", file: "a.py")], for: claim))
        try check(registered.map(\.nodeid) == ["a.py::x", "a.py::y"])
        try check(try await queue.testCount(of: claim) == 2)
        try check(try await queue.pendingTests(of: claim).map(\.nodeid) == ["a.py::x", "a.py::y"])
        var stale = claim
        stale.owner = "someone-else"
        try check(try await queue.register([NewTest(nodeid: "a.py::z")], for: stale) == nil)
        try await queue.addCollectionErrors([CollectionProblem(location: "b.py", message: "ImportError")], run: run.id)
        try await queue.addCollectionErrors([CollectionProblem(location: "b.py", message: "ImportError")], run: run.id)
    }

    /// Every check, write side and read side, by name: a backend's suite runs them all.
    public static var all: [(String, @Sendable (@escaping Factory) async throws -> Void)] { writeChecks + readChecks + orderChecks }

    /// The write-side checks, by name.
    static let writeChecks: [(String, @Sendable (@escaping Factory) async throws -> Void)] = [
        ("claimsLongestFirst", claimsLongestFirst),
        ("concurrentClaimsAreExclusive", concurrentClaimsAreExclusive),
        ("claimsStayInTheirRun", claimsStayInTheirRun),
        ("expiredLeaseIsReclaimedAndStaleWritesIgnored", expiredLeaseIsReclaimedAndStaleWritesIgnored),
        ("heartbeatExtendsLease", heartbeatExtendsLease),
        ("jobDiesAfterMaxAttempts", jobDiesAfterMaxAttempts),
        ("failRetriesWithBackoff", failRetriesWithBackoff),
        ("releaseKeepsAttempt", releaseKeepsAttempt),
        ("completeEnqueuesFollowUps", completeEnqueuesFollowUps),
        ("pendingTestsSkipRecorded", pendingTestsSkipRecorded),
        ("cancelStopsTheRun", cancelStopsTheRun),
        ("registerAddsTestsToTheHeldJob", registerAddsTestsToTheHeldJob),
    ]
}
