import Foundation
import GRDB
import Queue

/// A run's progress at one moment: what a live status line shows.
public struct RunProgress: Sendable, Equatable {
    public var tests: Int
    public var done: Int
    public var passed: Int
    public var failed: Int
    public var runningJobs: Int
    public var openJobs: Int

    /// Counts results of the run (every attempt recorded so far).
    public static func load(run: RunID, from queue: SQLiteQueue) throws -> RunProgress {
        try queue.readSync { db in
            let tests = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tests WHERE run_id = ?", arguments: [run]) ?? 0
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT test_id),
                       SUM(outcome IN ('passed', 'xfailed', 'xpassed')),
                       SUM(outcome IN ('failed', 'error', 'crashed', 'timeout'))
                FROM results WHERE run_id = ?
                """, arguments: [run])
            let jobs = try SQLiteQueue.counts(run: run, db: db)
            return RunProgress(tests: tests, done: row?[0] ?? 0, passed: row?[1] ?? 0, failed: row?[2] ?? 0,
                               runningJobs: jobs[.running], openJobs: jobs.open)
        }
    }
}

/// A failing result, briefly.
public struct FailureLine: Sendable, Equatable {
    public var nodeid: String
    public var outcome: Outcome
    public var message: String?
    public var finishedAt: Double

    /// Failures recorded after `since`, oldest first.
    public static func load(run: RunID, since: Double, from queue: SQLiteQueue, limit: Int = 50) throws -> [FailureLine] {
        try queue.readSync { db in
            try Row.fetchAll(db, sql: """
                SELECT t.nodeid, r.outcome, r.message, r.finished_at FROM results r JOIN tests t ON t.id = r.test_id
                WHERE r.run_id = ? AND r.outcome IN ('failed', 'error', 'crashed', 'timeout') AND r.finished_at > ?
                ORDER BY r.finished_at LIMIT ?
                """, arguments: [run, since, limit]).map {
                FailureLine(nodeid: $0[0], outcome: Outcome(rawValue: $0[1]) ?? .failed, message: $0[2], finishedAt: $0[3])
            }
        }
    }
}
