import Foundation
import GRDB

/// Questions about earlier runs that planning and reporting ask.
extension SQLiteQueue {
    /// The latest recorded duration of every test in the last `runs` runs: what the
    /// balancer uses to size jobs. Outcomes that ran the test's body count; skips do not.
    public func recentDurations(runs: Int = 5) throws -> [String: Double] {
        try readSync { db in
            var durations: [String: Double] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT t.nodeid, r.duration FROM results r JOIN tests t ON t.id = r.test_id
                WHERE r.run_id IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?)
                  AND r.outcome IN ('passed', 'failed', 'error', 'xfailed', 'xpassed')
                ORDER BY r.run_id, r.attempt
                """, arguments: [runs])
            while let row = try rows.next() { durations[row[0]] = row[1] }
            return durations
        }
    }

    /// The newest run, if any.
    public func latestRun() throws -> Run? {
        try readSync { db in try Row.fetchOne(db, sql: "SELECT * FROM runs ORDER BY id DESC LIMIT 1").map(Self.run(from:)) }
    }

    /// The run `id`, or the latest run when `id` is nil: the run a command means when
    /// it names none. Throws ``QueueError/unknownRun(_:)`` or ``QueueError/noRuns(path:)``.
    public func runOrLatest(_ id: RunID?) throws -> Run {
        let found = try readSync { db in
            if let id {
                return try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Self.run(from:))
            }
            return try Row.fetchOne(db, sql: "SELECT * FROM runs ORDER BY id DESC LIMIT 1").map(Self.run(from:))
        }
        guard let found else { throw id.map(QueueError.unknownRun) ?? QueueError.noRuns(path: path) }
        return found
    }

    /// The collection errors stored with a run.
    public func collectionErrors(run: RunID) throws -> [CollectionProblem] {
        try readSync { db in
            try Row.fetchAll(db, sql: "SELECT location, message FROM collection_errors WHERE run_id = ? ORDER BY id",
                             arguments: [run]).map { CollectionProblem(location: $0[0], message: $0[1]) }
        }
    }
}

extension SQLiteQueue {
    /// Every run id, newest first.
    public func runIDs() throws -> [RunID] {
        try readSync { db in try RunID.fetchAll(db, sql: "SELECT id FROM runs ORDER BY id DESC") }
    }
}

extension SQLiteQueue {
    /// Queues every test of the run whose latest attempt failed (failed, error, crashed,
    /// timeout) again as its next attempt, one job per file. Returns how many tests.
    @discardableResult
    public func retryFailures(run: RunID) async throws -> Int {
        let failing = try readSync { db in
            try Row.fetchAll(db, sql: """
                SELECT t.nodeid, t.file, r.attempt, r.duration FROM results r
                JOIN tests t ON t.id = r.test_id
                JOIN (SELECT test_id, MAX(attempt) AS attempt FROM results WHERE run_id = ? GROUP BY test_id) f
                  ON f.test_id = r.test_id AND f.attempt = r.attempt
                WHERE r.run_id = ? AND r.outcome IN ('failed', 'error', 'crashed', 'timeout')
                ORDER BY t.file, t.id
                """, arguments: [run, run])
        }
        var jobs: [NewJob] = []
        for row in failing {
            let file: String = row[1]
            let test = NewTest(nodeid: row[0], file: file, attempt: (row[2] as Int) + 1)
            if jobs.last?.name == "retry: \(file)" {
                jobs[jobs.count - 1].tests.append(test)
                jobs[jobs.count - 1].estimatedSeconds += row[3]
            } else {
                jobs.append(NewJob(name: "retry: \(file)", estimatedSeconds: row[3], tests: [test]))
            }
        }
        try await enqueue(jobs, into: run)
        return failing.count
    }
}
