import Foundation
internal import GRDB

/// A result as live progress sees it: what changed since the last look.
public struct ResultChange: Sendable, Equatable {
    /// Position in the run's commit order (`results.seq`).
    public var seq: Int64
    public var testID: TestID
    public var attempt: Int
    public var outcome: Outcome
    public var duration: Double
    /// Set for failing outcomes only (what a failure line prints).
    public var nodeid: String?
    public var message: String?
    /// The result's `extra` JSON when it says more than the outcome (teardown errors).
    public var extra: String?
}

/// A test the run registered: its id (ids only grow) and file.
public struct RegisteredTest: Sendable, Equatable {
    public var id: TestID
    public var file: String

    public init(id: TestID, file: String) {
        self.id = id
        self.file = file
    }
}

/// A job as live progress needs it, read once when planning is over.
public struct JobOutline: Sendable, Equatable {
    public var state: JobState
    public var estimatedSeconds: Double
    /// Opaque to the queue (arun's `JobPayload`).
    public var payload: String
}

/// Live progress's reads, whose cost follows what is new, not what the run holds, and
/// the run's time.
public protocol ProgressReader: Sendable {
    /// Results of `run` committed after the one numbered `seq`, in commit order.
    func results(of run: RunID, after seq: Int64, limit: Int) async throws -> [ResultChange]
    /// Tests registered in `run` after the one with id `after`, in id order.
    func tests(of run: RunID, after id: TestID, limit: Int) async throws -> [RegisteredTest]
    /// Every job of the run, briefly.
    func jobOutlines(run: RunID) async throws -> [JobOutline]
    /// The largest result number of a run (0 when it has none).
    func lastResultSeq(of run: RunID) async throws -> Int64
    /// Payloads of the run's jobs cancelled before any of their tests were known.
    func unrunPayloads(run: RunID) async throws -> [String]
    /// Adds one invocation's seconds to the run's active time.
    func addActiveSeconds(_ seconds: Double, to run: RunID) async throws
}

/// Reads whose cost follows what is new, not what the run already holds: live
/// progress and the -x/--maxfail check call them every second or every batch.
extension SQLiteQueue: ProgressReader {
    /// The failing outcomes as SQL literals: `results_failing` (migration 0004) is a
    /// partial index on exactly these, and a partial index serves only literal terms.
    static let failingLiterals = "(" + Outcome.failures.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"

    /// Results of `run` committed after the one numbered `seq`, in commit order.
    public func results(of run: RunID, after seq: Int64, limit: Int) async throws -> [ResultChange] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT r.seq, r.test_id, r.attempt, r.outcome, r.duration,
                       CASE WHEN r.outcome IN \(Self.failingLiterals)
                            THEN (SELECT nodeid FROM tests WHERE id = r.test_id) END,
                       CASE WHEN r.outcome IN \(Self.failingLiterals) THEN r.message END,
                       r.extra
                FROM results r INDEXED BY results_by_seq
                WHERE r.run_id = ? AND r.seq > ?
                ORDER BY r.seq LIMIT ?
                """), arguments: [run, seq, limit]).map {
                ResultChange(seq: $0[0], testID: $0[1], attempt: $0[2], outcome: Outcome(rawValue: $0[3]) ?? .failed,
                             duration: $0[4], nodeid: $0[5], message: $0[6], extra: $0[7])
            }
        }
    }

    /// Tests registered in `run` after the one with id `after`, as (id, file), in id order.
    /// Test ids only grow (the planner and workers insert under the write lock).
    public func tests(of run: RunID, after id: TestID, limit: Int) async throws -> [RegisteredTest] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, file FROM tests WHERE id > ? AND run_id = ? ORDER BY id LIMIT ?
                """), arguments: [id, run, limit]).map { RegisteredTest(id: $0[0], file: $0[1]) }
        }
    }

    /// Every job of the run, briefly: read once when live progress learns the plan.
    public func jobOutlines(run: RunID) async throws -> [JobOutline] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT state, estimated_seconds, payload FROM jobs WHERE run_id = ?",
                             arguments: [run]).map {
                JobOutline(state: JobState(rawValue: $0[0]) ?? .queued, estimatedSeconds: $0[1], payload: $0[2])
            }
        }
    }

    /// The largest `results.seq` of a run (0 when it has none).
    public func lastResultSeq(of run: RunID) async throws -> Int64 {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM results WHERE run_id = ?",
                               arguments: [run]) ?? 0
        }
    }

    /// Adds one invocation's seconds to the run's active time.
    public func addActiveSeconds(_ seconds: Double, to run: RunID) async throws {
        guard seconds > 0 else { return }
        try await write { db in
            try db.execute(sql: "UPDATE runs SET active_seconds = active_seconds + ? WHERE id = ?",
                           arguments: [seconds, run])
        }
    }

    /// Marks the run complete when nothing is left to run and it is still running:
    /// whichever worker finishes the last job calls this. Returns whether it did.
    @discardableResult
    public func completeIfDrained(run: RunID) async throws -> Bool {
        let now = self.now
        let completed = try await write { db in
            try db.execute(sql: """
                UPDATE runs SET status = 'complete', finished_at = ?
                WHERE id = ? AND status = 'running'
                  AND NOT EXISTS (SELECT 1 FROM jobs WHERE run_id = ? AND state IN ('queued', 'running'))
                """, arguments: [now, run, run])
            return db.changesCount > 0
        }
        if completed { truncateJournal() }
        return completed
    }

    /// Payloads of the run's jobs that were cancelled before any of their tests were
    /// known (file jobs nobody collected): what a stop left unrun, by job.
    public func unrunPayloads(run: RunID) async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: """
                SELECT payload FROM jobs j
                WHERE run_id = ? AND state = 'cancelled'
                  AND NOT EXISTS (SELECT 1 FROM job_tests jt WHERE jt.job_id = j.id)
                """, arguments: [run])
        }
    }
}
