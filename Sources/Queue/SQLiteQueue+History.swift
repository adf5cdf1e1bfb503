import Foundation
internal import GRDB

/// Which run a command means, and retrying a run's failures.
extension SQLiteQueue {
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
                WHERE r.run_id = ? AND r.outcome IN \(Self.placeholders(Outcome.failures.count))
                  AND \(Self.isFinalAttempt("r"))
                ORDER BY t.file, t.id
                """, arguments: [run] + StatementArguments(Outcome.failures.map(\.rawValue)))
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
