import Foundation
import GRDB
import Queue

/// A run's progress at one moment: what a live status line shows.
public struct RunProgress: Sendable, Equatable {
    public var tests: Int
    /// Tests with at least one result.
    public var done: Int
    /// Tests whose latest attempt passed (or xfailed, xpassed).
    public var passed: Int
    /// Tests whose latest attempt failed (failed, error, crashed, timeout).
    public var failed: Int
    public var runningJobs: Int
    public var openJobs: Int

    /// Counts the latest attempt of every test of the run: a test retried three times
    /// counts once.
    public static func load(run: RunID, from queue: SQLiteQueue) throws -> RunProgress {
        try queue.readSync { db in
            let tests = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tests WHERE run_id = ?", arguments: [run]) ?? 0
            // Bare `outcome` comes from the row holding MAX(attempt) (SQLite's rule for min/max).
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*), SUM(outcome IN ('passed', 'xfailed', 'xpassed')),
                       SUM(outcome IN \(RunSummary.failingSQL))
                FROM (SELECT outcome, MAX(attempt) FROM results WHERE run_id = ? GROUP BY test_id)
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
    /// Which attempt of the test failed (1 unless the test was retried).
    public var attempt: Int = 1

    /// Tests whose latest attempt is a failure recorded after `since`, oldest first.
    /// A test retried and failing again is listed once, with its latest attempt; a test
    /// that failed and then passed (flaky) is not listed.
    public static func load(run: RunID, since: Double, from queue: SQLiteQueue, limit: Int = 50) throws -> [FailureLine] {
        try queue.readSync { db in
            try Row.fetchAll(db, sql: """
                SELECT t.nodeid, r.outcome, r.message, r.finished_at, r.attempt
                FROM results r JOIN tests t ON t.id = r.test_id
                WHERE r.run_id = ? AND r.outcome IN \(RunSummary.failingSQL) AND r.finished_at > ?
                  AND NOT EXISTS (SELECT 1 FROM results n
                                  WHERE n.run_id = r.run_id AND n.test_id = r.test_id AND n.attempt > r.attempt)
                ORDER BY r.finished_at LIMIT ?
                """, arguments: [run, since, limit]).map {
                FailureLine(nodeid: $0[0], outcome: Outcome(rawValue: $0[1]) ?? .failed, message: $0[2],
                            finishedAt: $0[3], attempt: $0[4])
            }
        }
    }
}
