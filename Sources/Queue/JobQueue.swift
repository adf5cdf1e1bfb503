import Foundation

/// The queue every worker and planner talks to. SQLite implements it today;
/// a PostgreSQL backend (`FOR UPDATE SKIP LOCKED`) can implement it for many
/// hosts and must pass the same conformance suite (`QueueConformance` in the tests).
///
/// Guarantees every backend keeps:
/// - a job is claimed by at most one live owner at a time;
/// - writes carrying a ``Claim`` apply only while that claim still holds;
/// - a job whose lease expires goes back to `queued` (attempt + 1) or, after
///   `maxAttempts`, to `dead`; nothing is lost.
public protocol JobQueue: Sendable {
    /// Records a new run and returns it.
    func createRun(_ run: NewRun) async throws -> Run

    /// Deletes a run and everything recorded for it (a plan that failed half-way).
    func deleteRun(_ id: RunID) async throws

    /// The run with this id; throws ``QueueError/unknownRun(_:)`` when there is none.
    func run(_ id: RunID) async throws -> Run

    /// How many results of a run's tests count as failures (failed, error, crashed, timeout).
    func failureCount(run: RunID) async throws -> Int

    /// Records `not_run` for every test of the run's cancelled jobs that has no result yet.
    @discardableResult
    func markNotRun(run: RunID) async throws -> Int

    /// Marks a run planned, running (first start kept), complete, interrupted or cancelled.
    func setStatus(_ status: RunStatus, of run: RunID) async throws

    /// Adds jobs and their tests to a run, in batches of one transaction each.
    @discardableResult
    func enqueue(_ jobs: [NewJob], into run: RunID) async throws -> [JobID]

    /// Atomically takes the longest queued job of `run` whose backoff has passed.
    /// Returns nil when none is claimable now.
    func claim(run: RunID, worker: String, lease: Double) async throws -> Claim?

    /// The tests of a claimed job that have no result for their attempt yet,
    /// in job order. A job taken over from a dead worker skips what it recorded.
    func pendingTests(of claim: Claim) async throws -> [JobTest]

    /// How many tests the claimed job holds, run or not. A job of whole files holds
    /// none until its worker has collected them.
    func testCount(of claim: Claim) async throws -> Int

    /// Adds tests a worker collected to its job (a job of whole files learns its tests as
    /// it runs). Returns them as job tests, or nil when the claim no longer holds.
    func register(_ tests: [NewTest], for claim: Claim) async throws -> [JobTest]?

    /// Stores collection errors met while running a run's jobs; the same location is kept once.
    func addCollectionErrors(_ problems: [CollectionProblem], run: RunID) async throws

    /// Extends the lease. False when the claim no longer holds.
    func heartbeat(_ claim: Claim, lease: Double) async throws -> Bool

    /// Records outcomes of the claim's tests. False (and nothing written) when the claim no longer holds.
    @discardableResult
    func record(_ results: [TestResult], for claim: Claim, worker: String) async throws -> Bool

    /// Marks the job done and, in the same transaction, enqueues follow-up jobs
    /// (the tests a crash left unrun). False when the claim no longer holds.
    @discardableResult
    func complete(_ claim: Claim, followUps: [NewJob]) async throws -> Bool

    /// Completes a claim and claims the run's next job in one transaction: a worker
    /// that moves from job to job pays one write instead of two.
    func completeAndClaim(_ claim: Claim, followUps: [NewJob], lease: Double) async throws -> Handover

    /// The job could not be executed: it is queued again after a backoff, or
    /// becomes `failed` after its last attempt. False when the claim no longer holds.
    @discardableResult
    func fail(_ claim: Claim, error: String, retry: RetryPolicy) async throws -> Bool

    /// Hands an unfinished job back without spending an attempt (graceful stop).
    @discardableResult
    func release(_ claim: Claim) async throws -> Bool

    /// Requeues (or kills, after max attempts) every job whose lease expired.
    /// Idempotent and cheap; any worker may call it at any time. Returns the jobs touched.
    @discardableResult
    func reclaimExpired() async throws -> Int

    /// Cancels every queued job of a run; running jobs finish or are reclaimed as cancelled.
    @discardableResult
    func cancel(run: RunID) async throws -> Int

    /// Job counts of a run by state.
    func counts(run: RunID) async throws -> JobCounts

    /// Records a worker (process or task) so reports can show who ran what.
    func registerWorker(id: String, run: RunID, host: String, pid: Int32) async throws

    /// Marks a worker stopped.
    func stopWorker(id: String) async throws

    /// Marks a running run `complete` when no job is queued or running; the worker that
    /// finishes the last job calls it. Returns whether it did.
    @discardableResult
    func completeIfDrained(run: RunID) async throws -> Bool

    /// Queues every test of the run whose final attempt counts as a failure again, as its
    /// next attempt, one job per file. Returns how many tests.
    @discardableResult
    func retryFailures(run: RunID) async throws -> Int

    /// Stores durations imported from a file, for planning (replacing earlier ones of the
    /// same node ids).
    func storeImportedDurations(_ durations: [String: Double], now: Double) async throws
}

/// What ``JobQueue/completeAndClaim(_:followUps:lease:)`` did.
public struct Handover: Sendable, Equatable {
    /// False when the finished claim no longer held (nothing was written for it).
    public var completed: Bool
    /// The next job, or nil when none is claimable now.
    public var next: Claim?

    public init(completed: Bool, next: Claim?) {
        self.completed = completed
        self.next = next
    }
}

extension JobQueue {
    @discardableResult
    public func complete(_ claim: Claim) async throws -> Bool {
        try await complete(claim, followUps: [])
    }

    /// Not atomic: a backend that can should check and update in one statement.
    @discardableResult
    public func completeIfDrained(run: RunID) async throws -> Bool {
        guard try await counts(run: run).open == 0, try await self.run(run).status == .running else { return false }
        try await setStatus(.complete, of: run)
        return true
    }
}
