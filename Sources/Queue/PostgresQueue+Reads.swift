import Foundation
import PostgresNIO

/// The read side (``RunReader``) on PostgreSQL: the same questions as SQLite's, in one
/// statement each; node ids sort in byte order (`COLLATE "C"`) whatever the database's
/// collation.
extension PostgresQueue: RunReader {
    public var location: String { address.description }

    /// The outcomes of a kind, as a SQL list of bound values.
    static func outcomes(_ outcomes: [Outcome]) -> [String] { outcomes.map(\.rawValue) }

    public func runOrLatest(_ id: RunID?) async throws -> Run {
        let found = try await statement { connection, _ -> Run? in
            let sql: SQL = id.map { "SELECT \(unescaped: Self.runColumns) FROM runs WHERE id = \($0)" }
                ?? "SELECT \(unescaped: Self.runColumns) FROM runs ORDER BY id DESC LIMIT 1"
            for try await row in try await connection.query(sql.query, logger: PostgresConnections.logger) {
                return try Self.run(from: row)
            }
            return nil
        }
        guard let found else { throw id.map(QueueError.unknownRun) ?? QueueError.noRuns(path: location) }
        return found
    }

    public func runIDs() async throws -> [RunID] {
        try await statement { connection, _ in
            try await Self.rows(connection, "SELECT id FROM runs ORDER BY id DESC", as: Int64.self)
        }
    }

    public func tests(run: RunID, output: Bool) async throws -> [StoredTest] {
        try await statement { connection, _ in
            var tests: [StoredTest] = []
            var position: [Int64: Int] = [:]
            let testRows = try await connection.query(SQL("""
                SELECT id, nodeid, file FROM tests WHERE run_id = \(run) ORDER BY nodeid COLLATE "C"
                """).query, logger: PostgresConnections.logger)
            for try await (id, nodeid, file) in testRows.decode((Int64, String, String).self) {
                position[id] = tests.count
                tests.append(StoredTest(nodeid: nodeid, file: file))
            }
            let rows = try await connection.query(SQL("""
                SELECT test_id, attempt, outcome, duration, job_id, worker, started_at, finished_at, message,
                       CASE WHEN outcome = ANY(\(Self.outcomes(Outcome.failures))) THEN details END, extra,
                       \(unescaped: output ? "stdout, stderr, sections" : "NULL::text, NULL::text, NULL::text")
                FROM results WHERE run_id = \(run) ORDER BY test_id, attempt
                """).query, logger: PostgresConnections.logger)
            for try await row in rows {
                let (id, attempt, outcome, duration, job, worker, started, finished, message, details, extra, stdout,
                     stderr, sections) = try row.decode((Int64, Int, String, Double, Int64?, String?, Double?, Double?,
                                                         String?, String?, String?, String?, String?, String?).self)
                guard let outcome = Outcome(rawValue: outcome), let index = position[id] else { continue }
                tests[index].attempts.append(StoredAttempt(
                    attempt: attempt, outcome: outcome, duration: duration, job: job, worker: worker,
                    startedAt: started, finishedAt: finished, message: message, details: details, stdout: stdout,
                    stderr: stderr, extra: ResultExtra(json: extra), sections: sections))
            }
            return tests
        }
    }

    public func jobs(run: RunID) async throws -> [StoredJob] {
        try await statement { connection, _ in
            var jobs: [StoredJob] = []
            let rows = try await connection.query(SQL("""
                SELECT id, name, state, attempt, lease_owner, started_at, finished_at, error
                FROM jobs WHERE run_id = \(run) ORDER BY id
                """).query, logger: PostgresConnections.logger)
            for try await (id, name, state, attempt, worker, started, finished, error) in rows.decode(
                (Int64, String, String, Int, String?, Double?, Double?, String?).self) {
                jobs.append(StoredJob(id: id, name: name, state: JobState(rawValue: state) ?? .queued, attempt: attempt,
                                      worker: worker, startedAt: started, finishedAt: finished, error: error))
            }
            return jobs
        }
    }

    public func workers(run: RunID) async throws -> [StoredWorker] {
        try await statement { connection, _ in
            var workers: [StoredWorker] = []
            let rows = try await connection.query(SQL("""
                SELECT id, started_at, COALESCE(stopped_at, heartbeat_at) FROM workers WHERE run_id = \(run)
                ORDER BY id COLLATE "C"
                """).query, logger: PostgresConnections.logger)
            for try await (id, started, ended) in rows.decode((String, Double, Double?).self) {
                workers.append(StoredWorker(id: id, startedAt: started, endedAt: ended))
            }
            return workers
        }
    }

    public func collectionErrors(run: RunID) async throws -> [CollectionProblem] {
        try await statement { connection, _ in
            var problems: [CollectionProblem] = []
            let rows = try await connection.query(
                SQL("SELECT location, message FROM collection_errors WHERE run_id = \(run) ORDER BY id").query,
                logger: PostgresConnections.logger)
            for try await (location, message) in rows.decode((String, String).self) {
                problems.append(CollectionProblem(location: location, message: message))
            }
            return problems
        }
    }

    public func span(run: RunID) async throws -> RunSpan {
        try await statement { connection, _ in
            var span = RunSpan(start: nil, end: nil)
            let rows = try await connection.query(SQL("""
                SELECT (SELECT MIN(started_at) FROM jobs WHERE run_id = \(run) AND started_at IS NOT NULL),
                       (SELECT MAX(finished_at) FROM jobs WHERE run_id = \(run) AND started_at IS NOT NULL),
                       (SELECT MAX(finished_at) FROM results WHERE run_id = \(run))
                """).query, logger: PostgresConnections.logger)
            for try await (start, jobEnd, lastResult) in rows.decode((Double?, Double?, Double?).self) {
                span = RunSpan(start: start, end: [jobEnd, lastResult].compactMap { $0 }.max())
            }
            return span
        }
    }

    public func progress(run: RunID) async throws -> ProgressCounts {
        try await statement { connection, _ in
            let tests = try await Self.count(connection, "SELECT count(*)::int8 FROM tests WHERE run_id = \(run)")
            var done = 0, passed = 0, failed = 0
            // One row per test: its final attempt's outcome.
            let rows = try await connection.query(SQL("""
                SELECT DISTINCT ON (test_id) outcome FROM results WHERE run_id = \(run) ORDER BY test_id, attempt DESC
                """).query, logger: PostgresConnections.logger)
            for try await outcome in rows.decode(String.self) {
                done += 1
                let final = Outcome(rawValue: outcome)
                if final?.isPassing == true { passed += 1 }
                if final?.isFailure == true { failed += 1 }
            }
            return ProgressCounts(tests: tests, done: done, passed: passed, failed: failed)
        }
    }

    public func failures(run: RunID, since: Double, limit: Int) async throws -> [FailureLine] {
        try await statement { connection, _ in
            var lines: [FailureLine] = []
            let rows = try await connection.query(SQL("""
                SELECT t.nodeid, r.outcome, r.message, r.finished_at, r.attempt
                FROM results r JOIN tests t ON t.id = r.test_id
                WHERE r.run_id = \(run) AND r.outcome = ANY(\(Self.outcomes(Outcome.failures))) AND r.finished_at > \(since)
                  AND NOT EXISTS (SELECT 1 FROM results later WHERE later.run_id = r.run_id
                                  AND later.test_id = r.test_id AND later.attempt > r.attempt)
                ORDER BY r.finished_at LIMIT \(Int64(limit))
                """).query, logger: PostgresConnections.logger)
            for try await (nodeid, outcome, message, finished, attempt) in rows.decode(
                (String, String, String?, Double, Int).self) {
                lines.append(FailureLine(nodeid: nodeid, outcome: Outcome(rawValue: outcome) ?? .failed, message: message,
                                         finishedAt: finished, attempt: attempt))
            }
            return lines
        }
    }

    public func history(nodeid: String, limit: Int) async throws -> [TestRunHistory] {
        try await statement { connection, _ in
            var history: [TestRunHistory] = []
            var index: [Int64: Int] = [:]
            let holders = try await connection.query(SQL("""
                SELECT t.run_id, t.id, r.name, r.status, COALESCE(r.started_at, r.created_at)
                FROM tests t JOIN runs r ON r.id = t.run_id
                WHERE t.nodeid = \(nodeid) ORDER BY t.run_id DESC LIMIT \(Int64(limit))
                """).query, logger: PostgresConnections.logger)
            var testIDs: [Int64] = []
            for try await (run, test, name, status, started) in holders.decode((Int64, Int64, String?, String, Double).self) {
                index[test] = history.count
                testIDs.append(test)
                history.append(TestRunHistory(run: run, runName: name, runStatus: RunStatus(rawValue: status) ?? .planned,
                                              started: started, attempts: []))
            }
            guard !testIDs.isEmpty else { return [] }
            let rows = try await connection.query(SQL("""
                SELECT test_id, attempt, outcome, duration, message FROM results
                WHERE test_id = ANY(\(testIDs)) ORDER BY test_id, attempt
                """).query, logger: PostgresConnections.logger)
            for try await (test, attempt, outcome, duration, message) in rows.decode(
                (Int64, Int, String, Double, String?).self) {
                guard let slot = index[test], let outcome = Outcome(rawValue: outcome) else { continue }
                history[slot].attempts.append(StoredAttempt(attempt: attempt, outcome: outcome, duration: duration,
                                                            message: message))
            }
            return history
        }
    }

    public func nodeIDs(containing text: String, limit: Int) async throws -> [String] {
        let pattern = "%" + text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        return try await statement { connection, _ in
            try await Self.rows(connection, """
                SELECT DISTINCT nodeid COLLATE "C" FROM tests WHERE nodeid LIKE \(pattern)
                ORDER BY 1 LIMIT \(Int64(limit))
                """, as: String.self)
        }
    }

    public func measuredDurations(runs: Int?) async throws -> [String: Double] {
        try await statement { connection, _ in
            var durations: [String: Double] = [:]
            let scope: SQL = runs.map { "r.run_id IN (SELECT id FROM runs ORDER BY id DESC LIMIT \(Int64($0))) AND " } ?? ""
            // Runs in id order, attempts in order: the last row seen for a node id is its latest.
            let rows = try await connection.query(SQL("""
                SELECT t.nodeid, r.duration FROM results r JOIN tests t ON t.id = r.test_id
                WHERE \(scope)r.outcome = ANY(\(Self.outcomes(Outcome.measured)))
                ORDER BY r.run_id, r.attempt
                """).query, logger: PostgresConnections.logger)
            for try await (nodeid, duration) in rows.decode((String, Double).self) { durations[nodeid] = duration }
            return durations
        }
    }

    public func importedDurations() async throws -> [String: Double] {
        try await statement { connection, _ in
            var durations: [String: Double] = [:]
            let rows = try await connection.query("SELECT nodeid, seconds FROM imported_durations",
                                                  logger: PostgresConnections.logger)
            for try await (nodeid, seconds) in rows.decode((String, Double).self) { durations[nodeid] = seconds }
            return durations
        }
    }

    public func storeImportedDurations(_ durations: [String: Double], now: Double) async throws {
        let entries = Array(durations)
        try await statement { connection, _ in
            try await Self.execute(connection, """
                INSERT INTO imported_durations (nodeid, seconds, imported_at)
                SELECT nodeid, seconds, \(now) FROM unnest(\(entries.map(\.key)), \(entries.map(\.value))) AS d(nodeid, seconds)
                ON CONFLICT (nodeid) DO UPDATE SET seconds = excluded.seconds, imported_at = excluded.imported_at
                """)
        }
    }

    /// Queues every test whose final attempt failed again as its next attempt, one job per file.
    @discardableResult
    public func retryFailures(run: RunID) async throws -> Int {
        let failing = try await statement { connection, _ in
            var rows: [(String, String, Int, Double)] = []
            let result = try await connection.query(SQL("""
                SELECT t.nodeid, t.file, r.attempt, r.duration FROM results r JOIN tests t ON t.id = r.test_id
                WHERE r.run_id = \(run) AND r.outcome = ANY(\(Self.outcomes(Outcome.failures)))
                  AND NOT EXISTS (SELECT 1 FROM results later WHERE later.run_id = r.run_id
                                  AND later.test_id = r.test_id AND later.attempt > r.attempt)
                ORDER BY t.file, t.id
                """).query, logger: PostgresConnections.logger)
            for try await row in result.decode((String, String, Int, Double).self) { rows.append(row) }
            return rows
        }
        var jobs: [NewJob] = []
        for (nodeid, file, attempt, duration) in failing {
            let test = NewTest(nodeid: nodeid, file: file, attempt: attempt + 1)
            if jobs.last?.name == "retry: \(file)" {
                jobs[jobs.count - 1].tests.append(test)
                jobs[jobs.count - 1].estimatedSeconds += duration
            } else {
                jobs.append(NewJob(name: "retry: \(file)", estimatedSeconds: duration, tests: [test]))
            }
        }
        try await enqueue(jobs, into: run)
        return failing.count
    }
}
