import Foundation
import PostgresNIO

/// Runs, jobs and their tests, results, workers.
extension PostgresQueue {
    static let runColumns = "id, name, created_at, started_at, finished_at, status, directory, paths, pytest_args, settings"

    static func run(from row: PostgresRow) throws -> Run {
        let (id, name, created, started, finished, status, directory, paths, arguments, settings) = try row.decode(
            (Int64, String?, Double, Double?, Double?, String, String, String, String, String).self)
        return Run(id: id, name: name, createdAt: created, startedAt: started, finishedAt: finished,
                   status: RunStatus(rawValue: status) ?? .planned, directory: directory,
                   paths: JSONText.decodeStrings(paths), pytestArgs: JSONText.decodeStrings(arguments),
                   settings: RunSettings(json: settings))
    }

    public func createRun(_ run: NewRun) async throws -> Run {
        try await transaction(verifyCommit: true, durable: true) { connection in
            let rows = try await connection.query(SQL("""
                INSERT INTO runs (name, created_at, directory, paths, pytest_args, settings)
                VALUES (\(run.name), \(unescaped: now), \(run.directory), \(JSONText.encode(run.paths)),
                        \(JSONText.encode(run.pytestArgs)), \(run.settings.json))
                RETURNING \(unescaped: Self.runColumns)
                """).query, logger: PostgresConnections.logger)
            var created: Run?
            for try await row in rows { created = try Self.run(from: row) }
            guard let created else { throw QueueError.database("run insert returned no row") }
            for problem in run.collectionErrors {
                try await Self.execute(connection, """
                    INSERT INTO collection_errors (run_id, location, message)
                    VALUES (\(created.id), \(problem.location), \(problem.message))
                    """)
            }
            return created
        }
    }

    public func run(_ id: RunID) async throws -> Run {
        try await statement { connection, _ in
            let rows = try await connection.query(
                SQL("SELECT \(unescaped: Self.runColumns) FROM runs WHERE id = \(id)").query,
                logger: PostgresConnections.logger)
            for try await row in rows { return try Self.run(from: row) }
            throw QueueError.unknownRun(id)
        }
    }

    public func deleteRun(_ id: RunID) async throws {
        try await statement { connection, _ in try await Self.execute(connection, "DELETE FROM runs WHERE id = \(id)") }
    }

    public func failureCount(run: RunID) async throws -> Int {
        try await statement { connection, _ in
            try await Self.count(connection, """
                SELECT count(*)::int8 FROM results
                WHERE run_id = \(run) AND outcome IN ('failed', 'error', 'crashed', 'timeout')
                """)
        }
    }

    static func count(_ connection: PostgresConnection, _ sql: SQL) async throws -> Int {
        var count: Int64 = 0
        for try await value in try await connection.query(sql.query, logger: PostgresConnections.logger)
            .decode(Int64.self) {
            count = value
        }
        return Int(count)
    }

    @discardableResult
    public func markNotRun(run: RunID) async throws -> Int {
        try await statement { connection, _ in
            try await Self.execute(connection, """
                INSERT INTO results (run_id, test_id, attempt, outcome, job_id, finished_at, message)
                SELECT j.run_id, jt.test_id, jt.attempt, 'not_run', j.id, \(unescaped: now),
                       'not run: the run was stopped before this test'
                FROM jobs j JOIN job_tests jt ON jt.job_id = j.id
                WHERE j.run_id = \(run) AND j.state = 'cancelled'
                ON CONFLICT DO NOTHING
                RETURNING 1
                """)
        }
    }

    public func setStatus(_ status: RunStatus, of run: RunID) async throws {
        let touched = try await statement { connection, _ in
            switch status {
            case .running:
                try await Self.execute(connection, """
                    UPDATE runs SET status = 'running', started_at = COALESCE(started_at, \(unescaped: now)),
                        finished_at = NULL
                    WHERE id = \(run) RETURNING 1
                    """)
            case .planned:
                try await Self.execute(connection, "UPDATE runs SET status = 'planned' WHERE id = \(run) RETURNING 1")
            case .complete, .interrupted, .cancelled:
                try await Self.execute(connection, """
                    UPDATE runs SET status = \(status.rawValue), finished_at = \(unescaped: now)
                    WHERE id = \(run) RETURNING 1
                    """)
            }
        }
        if touched == 0 { throw QueueError.unknownRun(run) }
    }

    @discardableResult
    public func enqueue(_ jobs: [NewJob], into run: RunID) async throws -> [JobID] {
        var ids: [JobID] = []
        var start = jobs.startIndex
        while start < jobs.endIndex {
            var end = start
            var tests = 0
            repeat {
                tests += max(1, jobs[end].tests.count)
                end += 1
            } while end < jobs.endIndex && tests + jobs[end].tests.count <= configuration.enqueueBatchSize
            let batch = Array(jobs[start..<end])
            ids += try await transaction(verifyCommit: true, durable: true) { connection in
                try await Self.insert(batch, run: run, connection: connection)
            }
            start = end
        }
        return ids
    }

    /// Inserts jobs and their tests with three statements of arrays (`unnest`), whatever
    /// their number. Job ids are drawn from the sequence first so that they follow the
    /// jobs' order (ties in a claim go to the older job).
    static func insert(_ jobs: [NewJob], run: RunID, connection: PostgresConnection) async throws -> [JobID] {
        guard !jobs.isEmpty else { return [] }
        var ids: [Int64] = []
        for try await id in try await connection.query(SQL("""
            SELECT nextval(pg_get_serial_sequence('jobs', 'id')) FROM generate_series(1, \(jobs.count))
            """).query, logger: PostgresConnections.logger).decode(Int64.self) {
            ids.append(id)
        }
        ids.sort()
        try await execute(connection, """
            INSERT INTO jobs (id, run_id, name, max_attempts, estimated_seconds, payload)
            SELECT id, \(run), name, max_attempts, estimate, payload
            FROM unnest(\(ids), \(jobs.map(\.name)), \(jobs.map { Int64($0.maxAttempts) }),
                        \(jobs.map(\.estimatedSeconds)), \(jobs.map(\.payload)))
                 AS j(id, name, max_attempts, estimate, payload)
            """)
        for (id, job) in zip(ids, jobs) where !job.tests.isEmpty {
            _ = try await link(job.tests, job: id, run: run, from: 0, connection: connection)
        }
        return ids
    }

    /// Upserts tests into the run and appends them to a job from `position` on.
    static func link(_ tests: [NewTest], job: JobID, run: RunID, from position: Int,
                     connection: PostgresConnection) async throws -> [JobTest] {
        guard !tests.isEmpty else { return [] }
        // One row per node id in the upsert (ON CONFLICT may touch a row only once), in
        // the job's order: new tests get ids in that order, as on SQLite.
        var slot: [String: Int] = [:]
        var distinct: [NewTest] = []
        for test in tests {
            if let index = slot[test.nodeid] { distinct[index] = test } else {
                slot[test.nodeid] = distinct.count
                distinct.append(test)
            }
        }
        var testIDs: [String: Int64] = [:]
        let rows = try await connection.query(SQL("""
            INSERT INTO tests (run_id, nodeid, file, marks)
            SELECT \(run), nodeid, file, marks
            FROM unnest(\(distinct.map(\.nodeid)), \(distinct.map(\.file)), \(distinct.map { JSONText.encode($0.marks) }))
                 WITH ORDINALITY AS t(nodeid, file, marks, ordinal)
            ORDER BY ordinal
            ON CONFLICT (run_id, nodeid) DO UPDATE SET file = excluded.file
            RETURNING id, nodeid
            """).query, logger: PostgresConnections.logger)
        for try await (id, nodeid) in rows.decode((Int64, String).self) { testIDs[nodeid] = id }
        var linked: [JobTest] = []
        for test in tests {
            guard let id = testIDs[test.nodeid] else { throw QueueError.database("test insert returned no id") }
            linked.append(JobTest(testID: id, nodeid: test.nodeid, file: test.file, attempt: test.attempt))
        }
        try await execute(connection, """
            INSERT INTO job_tests (job_id, position, test_id, attempt)
            SELECT \(job), position, test_id, attempt
            FROM unnest(\(linked.indices.map { Int64(position + $0) }), \(linked.map(\.testID)),
                        \(linked.map { Int64($0.attempt) })) AS l(position, test_id, attempt)
            """)
        return linked
    }

    public func pendingTests(of claim: Claim) async throws -> [JobTest] {
        try await statement { connection, _ in
            let rows = try await connection.query(SQL("""
                SELECT t.id, t.nodeid, t.file, jt.attempt
                FROM job_tests jt JOIN tests t ON t.id = jt.test_id
                WHERE jt.job_id = \(claim.jobID) AND NOT EXISTS (
                    SELECT 1 FROM results r WHERE r.run_id = t.run_id AND r.test_id = t.id AND r.attempt = jt.attempt)
                ORDER BY jt.position
                """).query, logger: PostgresConnections.logger)
            var tests: [JobTest] = []
            for try await (id, nodeid, file, attempt) in rows.decode((Int64, String, String, Int).self) {
                tests.append(JobTest(testID: id, nodeid: nodeid, file: file, attempt: attempt))
            }
            return tests
        }
    }

    public func testCount(of claim: Claim) async throws -> Int {
        try await statement { connection, _ in
            try await Self.count(connection, "SELECT count(*)::int8 FROM job_tests WHERE job_id = \(claim.jobID)")
        }
    }

    /// Tests already linked to the job are returned as they are, not added again: a
    /// repeat after a lost answer changes nothing.
    public func register(_ tests: [NewTest], for claim: Claim) async throws -> [JobTest]? {
        try await transaction { connection in
            guard try await Self.execute(connection, "SELECT 1 FROM jobs WHERE \(Self.held(claim)) FOR SHARE") == 1 else {
                return nil
            }
            var linked: [String: JobTest] = [:]
            var next = 0
            let rows = try await connection.query(SQL("""
                SELECT t.id, t.nodeid, t.file, jt.attempt, jt.position FROM job_tests jt JOIN tests t ON t.id = jt.test_id
                WHERE jt.job_id = \(claim.jobID)
                """).query, logger: PostgresConnections.logger)
            for try await (id, nodeid, file, attempt, position) in rows.decode((Int64, String, String, Int, Int).self) {
                linked[nodeid] = JobTest(testID: id, nodeid: nodeid, file: file, attempt: attempt)
                next = max(next, position + 1)
            }
            let fresh = tests.filter { linked[$0.nodeid] == nil }
            for test in try await Self.link(fresh, job: claim.jobID, run: claim.runID, from: next, connection: connection) {
                linked[test.nodeid] = test
            }
            return tests.compactMap { linked[$0.nodeid] }
        }
    }

    public func addCollectionErrors(_ problems: [CollectionProblem], run: RunID) async throws {
        guard !problems.isEmpty else { return }
        try await transaction { connection in
            // Two workers may report the same file at once: serialize per run.
            try await Self.execute(connection, "SELECT 1 FROM runs WHERE id = \(run) FOR UPDATE")
            for problem in problems {
                try await Self.execute(connection, """
                    INSERT INTO collection_errors (run_id, location, message)
                    SELECT \(run), \(problem.location), \(problem.message)
                    WHERE NOT EXISTS (SELECT 1 FROM collection_errors WHERE run_id = \(run) AND location = \(problem.location))
                    """)
            }
        }
    }

    /// Results in multi-row statements of at most `resultsPerStatement`, each guarded by
    /// the claim (its job row locked FOR SHARE so a reclaim waits for it, never the other
    /// way round); an upsert, so a repeat after a lost answer writes the same rows.
    @discardableResult
    public func record(_ results: [TestResult], for claim: Claim, worker: String) async throws -> Bool {
        guard !results.isEmpty else { return true }
        return try await transaction { connection in
            guard try await Self.execute(connection, "SELECT 1 FROM jobs WHERE \(Self.held(claim)) FOR SHARE") == 1 else {
                return false
            }
            var start = 0
            while start < results.count {
                let batch = results[start..<min(results.count, start + Self.resultsPerStatement)]
                var values: SQL = ""
                for (offset, result) in batch.enumerated() {
                    if offset > 0 { values.append(", ") }
                    values.append("""
                        (\(result.testID)::int8, \(Int64(result.attempt))::int4,
                        \(result.outcome.rawValue)::text, \(result.duration)::float8, \(result.startedAt)::float8,
                        \(result.finishedAt)::float8, \(result.message)::text, \(result.details)::text,
                        \(result.stdout)::text, \(result.stderr)::text, \(result.extra)::text, \(result.sections)::text,
                        \(result.process.map(Int64.init))::int4)
                        """)
                }
                try await Self.execute(connection, """
                    INSERT INTO results (run_id, test_id, attempt, outcome, duration, job_id, worker, started_at,
                                         finished_at, message, details, stdout, stderr, extra, sections, process, seq)
                    SELECT \(claim.runID), v.test_id, v.attempt, v.outcome, v.duration, \(claim.jobID), \(worker),
                           v.started_at, v.finished_at, v.message, v.details, v.stdout, v.stderr, v.extra, v.sections,
                           v.process, nextval('results_seq')
                    FROM (VALUES \(values)) AS v(test_id, attempt, outcome, duration, started_at, finished_at,
                                                 message, details, stdout, stderr, extra, sections, process)
                    ON CONFLICT (run_id, test_id, attempt) DO UPDATE SET
                        outcome = excluded.outcome, duration = excluded.duration, job_id = excluded.job_id,
                        worker = excluded.worker, started_at = excluded.started_at, finished_at = excluded.finished_at,
                        message = excluded.message, details = excluded.details, stdout = excluded.stdout,
                        stderr = excluded.stderr, extra = excluded.extra, sections = excluded.sections,
                        process = excluded.process, seq = excluded.seq
                    """)
                start += batch.count
            }
            return true
        }
    }

    /// 13 parameters a row: well under PostgreSQL's 65,535 per statement.
    static let resultsPerStatement = 2_000

    public func registerWorker(id: String, run: RunID, host: String, pid: Int32) async throws {
        try await statement { connection, _ in
            try await Self.execute(connection, """
                INSERT INTO workers (id, run_id, host, pid, started_at, heartbeat_at)
                VALUES (\(id), \(run), \(host), \(Int64(pid))::int4, \(unescaped: now), \(unescaped: now))
                ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, heartbeat_at = excluded.heartbeat_at,
                    stopped_at = NULL
                """)
        }
    }

    public func stopWorker(id: String) async throws {
        try await statement { connection, _ in
            try await Self.execute(connection, """
                UPDATE workers SET stopped_at = \(unescaped: now), heartbeat_at = \(unescaped: now)
                WHERE id = \(id)
                """)
        }
    }
}
