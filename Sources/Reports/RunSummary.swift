import Foundation
import GRDB
import Queue

/// The totals of a run as pytest would print them, from each test's final attempt.
public struct RunSummary: Sendable, Equatable {
    public var run: Run
    /// Final outcome counts, by outcome.
    public var outcomes: [Outcome: Int]
    /// Extra "error" entries pytest counts beside a test's own outcome (teardown failures).
    public var teardownErrors: Int
    /// Tests the run holds.
    public var tests: Int
    /// Tests with no result yet.
    public var pending: Int
    public var collectionErrors: Int
    /// Failed subtests, which pytest 9 adds to "failed".
    public var failedSubtests: Int
    public var wallSeconds: Double
    public var jobs: JobCounts

    public subscript(outcome: Outcome) -> Int { outcomes[outcome, default: 0] }

    public var failures: Int {
        Outcome.allCases.filter(\.isFailure).reduce(0) { $0 + self[$1] } + teardownErrors
    }

    /// pytest's exit code for this run: 2 interrupted, unfinished or collection errors,
    /// 1 failures, 5 nothing ran, 0 otherwise.
    public func exitCode(interrupted: Bool, collectionErrorsFail: Bool = true) -> Int32 {
        if interrupted || pending > 0 { return 2 }
        if collectionErrors > 0 && collectionErrorsFail { return 2 }
        if failures > 0 || failedSubtests > 0 { return 1 }
        if tests == 0 { return 5 }
        return 0
    }

    /// `3 failed, 10 passed, 1 skipped in 4.20s`, pytest's order and words.
    public var line: String {
        var parts: [String] = []
        func add(_ count: Int, _ word: String) { if count > 0 { parts.append("\(count) \(word)") } }
        add(self[.failed] + failedSubtests, "failed")
        add(self[.passed], "passed")
        add(self[.skipped], "skipped")
        add(self[.xfailed], "xfailed")
        add(self[.xpassed], "xpassed")
        add(self[.error] + teardownErrors, self[.error] + teardownErrors == 1 ? "error" : "errors")
        add(self[.crashed], "crashed")
        add(self[.timeout], "timeout")
        add(self[.notRun], "not run")
        add(pending, "pending")
        add(collectionErrors, collectionErrors == 1 ? "collection error" : "collection errors")
        if parts.isEmpty { parts.append("no tests ran") }
        return parts.joined(separator: ", ") + " in " + String(format: "%.2fs", wallSeconds)
    }

    /// Reads the summary of `run` from the database.
    public static func load(run: RunID, from queue: SQLiteQueue) throws -> RunSummary {
        try queue.readSync { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [run]) else {
                throw QueueError.unknownRun(run)
            }
            let stored = SQLiteQueue.run(from: row)
            var outcomes: [Outcome: Int] = [:]
            var teardown = 0
            var subtests = 0
            // Final attempt per test: the row with the highest attempt.
            let finals = try Row.fetchCursor(db, sql: """
                SELECT r.outcome, r.extra FROM results r
                JOIN (SELECT test_id, MAX(attempt) AS attempt FROM results WHERE run_id = ? GROUP BY test_id) f
                  ON f.test_id = r.test_id AND f.attempt = r.attempt
                WHERE r.run_id = ?
                """, arguments: [run, run])
            var withResult = 0
            while let final = try finals.next() {
                withResult += 1
                if let outcome = Outcome(rawValue: final[0]) { outcomes[outcome, default: 0] += 1 }
                if let extra: String = final[1] {
                    if extra.contains(#""teardown_error":true"#) { teardown += 1 }
                    if extra.contains(#""call_outcome":"passed""#) { outcomes[.passed, default: 0] += 1 }
                    if let data = extra.data(using: .utf8),
                       let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                       let sub = object["subtests"] as? [String: Any], let failed = sub["failed"] as? Int {
                        subtests += failed
                    }
                }
            }
            let tests = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tests WHERE run_id = ?", arguments: [run]) ?? 0
            let errors = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM collection_errors WHERE run_id = ?",
                                          arguments: [run]) ?? 0
            let span = try Row.fetchOne(db, sql: """
                SELECT MIN(started_at), MAX(finished_at) FROM jobs WHERE run_id = ? AND started_at IS NOT NULL
                """, arguments: [run])
            let start: Double? = span?[0]
            let end: Double? = span?[1]
            return RunSummary(
                run: stored, outcomes: outcomes, teardownErrors: teardown, tests: tests,
                pending: max(0, tests - withResult), collectionErrors: errors, failedSubtests: subtests,
                wallSeconds: max(0, (end ?? start ?? 0) - (start ?? 0)),
                jobs: try SQLiteQueue.counts(run: run, db: db))
        }
    }
}
