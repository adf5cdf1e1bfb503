import Foundation
import Queue
import TestSupport
import Testing

/// What a supervisor and the next arun do with a dead worker's jobs: handed back at once,
/// without spending an attempt, and the run it left running settled.
@Suite struct RecoveryTests {
    static func queueWithClaim() async throws -> (TemporaryFolder, SQLiteQueue, RunID, Claim) {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.db"))
        let run = try await queue.createRun(NewRun(name: "r"))
        try await queue.enqueue([NewJob(name: "a", tests: [NewTest(nodeid: "t::a")]),
                                 NewJob(name: "b", tests: [NewTest(nodeid: "t::b")])], into: run.id)
        try await queue.setStatus(.running, of: run.id)
        try await queue.registerWorker(id: "w1", run: run.id, host: "h", pid: 999_999)
        let claim = try #require(try await queue.claim(run: run.id, worker: "w1", lease: 600))
        return (folder, queue, run.id, claim)
    }

    @Test func releasedJobsKeepTheirAttemptAndTheWorkerStops() async throws {
        let (_, queue, run, claim) = try await Self.queueWithClaim()
        #expect(try queue.activeWorkers(host: "h").map(\.id) == ["w1"])
        #expect(try await queue.releaseJobs(ofWorkers: ["w1"], reason: "w1 died") == 1)
        #expect(try queue.activeWorkers(host: "h").isEmpty)
        // Back at once, lease or not, with the same attempt; the dead owner's writes no longer apply.
        let again = try #require(try await queue.claim(run: run, worker: "w2", lease: 600))
        #expect(again.jobID == claim.jobID && again.attempt == claim.attempt)
        #expect(try await queue.heartbeat(claim, lease: 600) == false)
        #expect(try await queue.releaseJobs(ofWorkers: ["w1"], reason: "again") == 0)
    }

    @Test func abandonedRunIsInterruptedOrCompleteByItsOpenJobs() async throws {
        let (_, queue, run, _) = try await Self.queueWithClaim()
        // A live worker keeps the run as it is.
        #expect(try await queue.settleAbandoned(runs: [run]).isEmpty)
        try await queue.releaseJobs(ofWorkers: ["w1"], reason: "died")
        #expect(try await queue.settleAbandoned(runs: [run]) == [run])
        #expect(try await queue.run(run).status == .interrupted)

        let (_, other, second, claim) = try await Self.queueWithClaim()
        try await other.complete(claim)
        let next = try #require(try await other.claim(run: second, worker: "w1", lease: 600))
        try await other.complete(next)
        try await other.stopWorker(id: "w1")
        #expect(try await other.settleAbandoned(runs: [second]) == [second])
        #expect(try await other.run(second).status == .complete, "every job finished: never interrupted")
    }
}
