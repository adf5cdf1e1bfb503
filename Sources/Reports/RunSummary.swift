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
    /// Tests whose final attempt passed after an earlier attempt failed.
    public var flaky: Int = 0
    /// Warnings pytest recorded in the final attempts (and while collecting).
    public var warnings: Int = 0

    public subscript(outcome: Outcome) -> Int { outcomes[outcome, default: 0] }

    public var failures: Int {
        Outcome.allCases.filter(\.isFailure).reduce(0) { $0 + self[$1] } + teardownErrors
    }

    /// pytest's exit code for this run: 2 interrupted, unfinished or collection errors,
    /// 1 failures (and flaky tests when `failOnFlaky`), 5 nothing ran, 0 otherwise.
    /// A flaky test passed in the end, so by default it does not fail the run.
    public func exitCode(interrupted: Bool, collectionErrorsFail: Bool = true, failOnFlaky: Bool = false) -> Int32 {
        if interrupted || pending > 0 { return 2 }
        if collectionErrors > 0 && collectionErrorsFail { return 2 }
        if failures > 0 || failedSubtests > 0 { return 1 }
        if failOnFlaky && flaky > 0 { return 1 }
        if tests == 0 { return 5 }
        return 0
    }

    /// `3 failed, 10 passed, 1 flaky, 1 skipped in 4.20s`, pytest's order and words;
    /// flaky tests are also counted in "passed".
    public var line: String {
        var parts: [String] = []
        func add(_ count: Int, _ word: String) { if count > 0 { parts.append("\(count) \(word)") } }
        add(self[.failed] + failedSubtests, "failed")
        add(self[.passed], "passed")
        add(flaky, "flaky")
        add(self[.skipped], "skipped")
        add(self[.xfailed], "xfailed")
        add(self[.xpassed], "xpassed")
        add(warnings, warnings == 1 ? "warning" : "warnings")
        add(self[.error] + teardownErrors, self[.error] + teardownErrors == 1 ? "error" : "errors")
        add(self[.crashed], "crashed")
        add(self[.timeout], "timeout")
        add(self[.notRun], "not run")
        add(pending, "pending")
        add(collectionErrors, collectionErrors == 1 ? "collection error" : "collection errors")
        if parts.isEmpty { parts.append("no tests ran") }
        return parts.joined(separator: ", ") + " in " + String(format: "%.2fs", wallSeconds)
    }

    /// "9 tests matched no group and did not run", from the plan's note on the run:
    /// such tests are in no job, so the totals cannot show them.
    public var unmatchedNote: String? {
        guard let data = run.settings.data(using: .utf8),
              let settings = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        func count(_ key: String) -> Int { (settings[key] as? String).flatMap { Int($0) } ?? (settings[key] as? Int) ?? 0 }
        if count("unmatched") > 0 {
            let n = count("unmatched")
            return "\(n) test\(n == 1 ? "" : "s") matched no group and did not run"
        }
        if count("unmatched_files") > 0 {
            let n = count("unmatched_files")
            return "\(n) test file\(n == 1 ? "" : "s") matched no group and did not run"
        }
        return nil
    }

    /// Reads the summary of `run` from the database.
    public static func load(run: RunID, from queue: SQLiteQueue) throws -> RunSummary {
        try queue.readSync { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [run]) else {
                throw QueueError.unknownRun(run)
            }
            // Every attempt in primary-key order (run_id, test_id, attempt): a plain scan, no
            // sort and no aggregate; a test's last row is its final attempt.
            var tally = Tally()
            let rows = try Row.fetchCursor(db, sql: """
                SELECT test_id, outcome, extra FROM results WHERE run_id = ? ORDER BY test_id, attempt
                """, arguments: [run])
            while let row = try rows.next() {
                tally.attempt(test: row[0], outcome: Outcome(rawValue: row[1]), extra: row[2])
            }
            tally.finish()
            return try make(run: SQLiteQueue.run(from: row), tally: tally, db: db)
        }
    }

    /// The summary from a tally of the run's attempts and a few small queries.
    static func make(run: Run, tally: Tally, db: Database) throws -> RunSummary {
        let tests = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tests WHERE run_id = ?", arguments: [run.id]) ?? 0
        let errors = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM collection_errors WHERE run_id = ?",
                                      arguments: [run.id]) ?? 0
        let span = try Row.fetchOne(db, sql: """
            SELECT MIN(started_at), MAX(finished_at) FROM jobs WHERE run_id = ? AND started_at IS NOT NULL
            """, arguments: [run.id])
        let start: Double? = span?[0]
        // Jobs handed back on a stop have no finish time; their recorded results do.
        let lastResult = try Double.fetchOne(db, sql: "SELECT MAX(finished_at) FROM results WHERE run_id = ?",
                                             arguments: [run.id])
        let end: Double? = [span?[1] as Double?, lastResult].compactMap { $0 }.max()
        return RunSummary(
            run: run, outcomes: tally.outcomes, teardownErrors: tally.teardown, tests: tests,
            pending: max(0, tests - tally.withResult), collectionErrors: errors, failedSubtests: tally.subtests,
            wallSeconds: max(0, (end ?? start ?? 0) - (start ?? 0)),
            jobs: try SQLiteQueue.counts(run: run.id, db: db), flaky: tally.flaky, warnings: tally.warnings)
    }

    /// Counts final attempts the way pytest counts them, fed every attempt of a run in
    /// (test, attempt) order.
    struct Tally {
        var outcomes: [Outcome: Int] = [:]
        var teardown = 0
        var subtests = 0
        var flaky = 0
        var warnings = 0
        var withResult = 0
        private var test: TestID?
        private var outcome: Outcome?
        private var extra: String?
        private var failedBefore = false

        mutating func attempt(test id: TestID, outcome: Outcome?, extra: String?) {
            if id != test {
                finish()
                test = id
                failedBefore = false
            } else if self.outcome?.isFailure == true {
                failedBefore = true
            }
            self.outcome = outcome
            self.extra = extra
        }

        /// Counts the test fed last; call once after the last attempt.
        mutating func finish() {
            guard test != nil else { return }
            withResult += 1
            if let outcome { outcomes[outcome, default: 0] += 1 }
            if outcome == .passed && failedBefore { flaky += 1 }
            if let extra {
                if extra.contains(#""teardown_error":true"#) { teardown += 1 }
                if extra.contains(#""call_outcome":"passed""#) { outcomes[.passed, default: 0] += 1 }
                if extra.contains(#""warnings":"#), let count = Self.warnings(in: extra) { warnings += count }
                if extra.contains(#""subtests""#), let data = extra.data(using: .utf8),
                   let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                   let sub = object["subtests"] as? [String: Any], let failed = sub["failed"] as? Int {
                    subtests += failed
                }
            }
            test = nil
            outcome = nil
            extra = nil
        }

        /// `"warnings":N` of a result's extra fields.
        static func warnings(in extra: String) -> Int? {
            guard let range = extra.range(of: #""warnings":"#) else { return nil }
            return Int(extra[range.upperBound...].prefix { $0.isNumber })
        }
    }

    /// The outcomes that fail a run, as an SQL list.
    static let failingSQL = "('failed', 'error', 'crashed', 'timeout')"
}
