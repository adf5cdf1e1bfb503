import Foundation
internal import GRDB

/// Runs, jobs and their tests, results, workers.
extension SQLiteQueue {
    public func createRun(_ run: NewRun) async throws -> Run {
        let now = self.now
        let id = try await write { db in
            try db.execute(sql: """
                INSERT INTO runs (name, created_at, directory, paths, pytest_args, settings)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [run.name, now, run.directory, JSONText.encode(run.paths),
                                 JSONText.encode(run.pytestArgs), run.settings.json])
            let id = db.lastInsertedRowID
            for problem in run.collectionErrors {
                try db.execute(sql: "INSERT INTO collection_errors (run_id, location, message) VALUES (?, ?, ?)",
                               arguments: [id, problem.location, problem.message])
            }
            return id
        }
        return Run(id: id, name: run.name, createdAt: now, startedAt: nil, finishedAt: nil, status: .planned,
                   directory: run.directory, paths: run.paths, pytestArgs: run.pytestArgs, settings: run.settings)
    }

    public func run(_ id: RunID) async throws -> Run {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else {
                throw QueueError.unknownRun(id)
            }
            return Self.run(from: row)
        }
    }

    static func run(from row: Row) -> Run {
        Run(id: row["id"], name: row["name"], createdAt: row["created_at"], startedAt: row["started_at"],
            finishedAt: row["finished_at"], status: RunStatus(rawValue: row["status"]) ?? .planned,
            directory: row["directory"], paths: JSONText.decodeStrings(row["paths"]),
            pytestArgs: JSONText.decodeStrings(row["pytest_args"]), settings: RunSettings(json: row["settings"] ?? "{}"),
            activeSeconds: row["active_seconds"] ?? 0)
    }

    public func deleteRun(_ id: RunID) async throws {
        try await write { db in try db.execute(sql: "DELETE FROM runs WHERE id = ?", arguments: [id]) }
    }

    public func failureCount(run: RunID) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM results INDEXED BY results_failing
                WHERE run_id = ? AND outcome IN \(Self.failingLiterals)
                """, arguments: [run]) ?? 0
        }
    }

    @discardableResult
    public func markNotRun(run: RunID) async throws -> Int {
        let now = self.now
        return try await write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO results (run_id, test_id, attempt, outcome, job_id, finished_at, message, seq)
                SELECT j.run_id, jt.test_id, jt.attempt, 'not_run', j.id, ?, 'not run: the run was stopped before this test',
                       (SELECT COALESCE(MAX(seq), 0) FROM results WHERE run_id = ?) + ROW_NUMBER() OVER ()
                FROM jobs j JOIN job_tests jt ON jt.job_id = j.id
                WHERE j.run_id = ? AND j.state = 'cancelled'
                """, arguments: [now, run, run])
            return db.changesCount
        }
    }

    public func setStatus(_ status: RunStatus, of run: RunID) async throws {
        let now = self.now
        try await write { db in
            switch status {
            case .running:
                try db.execute(sql: """
                    UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?), finished_at = NULL
                    WHERE id = ?
                    """, arguments: [now, run])
            case .planned:
                try db.execute(sql: "UPDATE runs SET status = 'planned' WHERE id = ?", arguments: [run])
            case .complete, .interrupted, .cancelled:
                try db.execute(sql: "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                               arguments: [status.rawValue, now, run])
            }
            if db.changesCount == 0 { throw QueueError.unknownRun(run) }
        }
        if status == .complete || status == .interrupted || status == .cancelled { truncateJournal() }
    }

    @discardableResult
    public func enqueue(_ jobs: [NewJob], into run: RunID) async throws -> [JobID] {
        var ids: [JobID] = []
        var start = jobs.startIndex
        while start < jobs.endIndex {
            // One transaction per batch of about `enqueueBatchSize` tests (at least one job).
            var end = start
            var tests = 0
            repeat {
                tests += max(1, jobs[end].tests.count)
                end += 1
            } while end < jobs.endIndex && tests + jobs[end].tests.count <= configuration.enqueueBatchSize
            let batch = Array(jobs[start..<end])
            ids += try await write { db in try batch.map { try Self.insert($0, run: run, db: db) } }
            start = end
        }
        return ids
    }

    /// Inserts one job and its tests; a test already known to the run keeps its row.
    static func insert(_ job: NewJob, run: RunID, db: Database) throws -> JobID {
        try db.cachedStatement(sql: """
            INSERT INTO jobs (run_id, name, max_attempts, estimated_seconds, payload) VALUES (?, ?, ?, ?, ?)
            """).execute(arguments: [run, job.name, job.maxAttempts, job.estimatedSeconds, job.payload])
        let jobID = db.lastInsertedRowID
        _ = try link(job.tests, job: jobID, run: run, from: 0, db: db)
        return jobID
    }

    /// Upserts tests into the run and appends them to a job from `position` on.
    static func link(_ tests: [NewTest], job jobID: JobID, run: RunID, from position: Int, db: Database) throws -> [JobTest] {
        let upsertTest = try db.cachedStatement(sql: """
            INSERT INTO tests (run_id, nodeid, file, marks) VALUES (?, ?, ?, ?)
            ON CONFLICT (run_id, nodeid) DO UPDATE SET file = excluded.file
            RETURNING id
            """)
        let link = try db.cachedStatement(sql: """
            INSERT INTO job_tests (job_id, position, test_id, attempt) VALUES (?, ?, ?, ?)
            """)
        var linked: [JobTest] = []
        linked.reserveCapacity(tests.count)
        let encoder = JSONEncoder()  // once per batch, not per test
        for (offset, test) in tests.enumerated() {
            guard let testID = try TestID.fetchOne(
                upsertTest, arguments: [run, test.nodeid, test.file, JSONText.encode(test.marks, encoder: encoder)])
            else { throw QueueError.database("test insert returned no id") }
            try link.execute(arguments: [jobID, position + offset, testID, test.attempt])
            linked.append(JobTest(testID: testID, nodeid: test.nodeid, file: test.file, attempt: test.attempt))
        }
        return linked
    }

    public func pendingTests(of claim: Claim) async throws -> [JobTest] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT t.id, t.nodeid, t.file, jt.attempt
                FROM job_tests jt JOIN tests t ON t.id = jt.test_id
                WHERE jt.job_id = ? AND NOT EXISTS (
                    SELECT 1 FROM results r WHERE r.run_id = t.run_id AND r.test_id = t.id AND r.attempt = jt.attempt)
                ORDER BY jt.position
                """), arguments: [claim.jobID])
            .map { JobTest(testID: $0[0], nodeid: $0[1], file: $0[2], attempt: $0[3]) }
        }
    }

    @discardableResult
    public func testCount(of claim: Claim) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job_tests WHERE job_id = ?", arguments: [claim.jobID]) ?? 0
        }
    }

    public func register(_ tests: [NewTest], for claim: Claim) async throws -> [JobTest]? {
        try await write { db in
            let held = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM jobs WHERE \(Self.heldByClaim)"),
                arguments: Self.claimArguments(claim)) ?? false
            guard held else { return nil }
            let start = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position) + 1, 0) FROM job_tests WHERE job_id = ?",
                                         arguments: [claim.jobID]) ?? 0
            return try Self.link(tests, job: claim.jobID, run: claim.runID, from: start, db: db)
        }
    }

    public func addCollectionErrors(_ problems: [CollectionProblem], run: RunID) async throws {
        guard !problems.isEmpty else { return }
        try await write { db in
            for problem in problems {
                try db.execute(sql: """
                    INSERT INTO collection_errors (run_id, location, message)
                    SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM collection_errors WHERE run_id = ? AND location = ?)
                    """, arguments: [run, problem.location, problem.message, run, problem.location])
            }
        }
    }

    @discardableResult
    public func record(_ results: [TestResult], for claim: Claim, worker: String) async throws -> Bool {
        guard !results.isEmpty else { return true }
        return try await write { db in
            let held = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM jobs WHERE \(Self.heldByClaim)"),
                arguments: Self.claimArguments(claim)) ?? false
            guard held else { return false }
            // Numbered in commit order (we hold the write lock): see migrations/0004.
            var seq = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT COALESCE(MAX(seq), 0) FROM results WHERE run_id = ?"),
                arguments: [claim.runID]) ?? 0
            let insert = try db.cachedStatement(sql: """
                INSERT INTO results (run_id, test_id, attempt, outcome, duration, job_id, worker, started_at,
                                     finished_at, message, details, stdout, stderr, extra, seq, sections, process)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, test_id, attempt) DO UPDATE SET
                    outcome = excluded.outcome, duration = excluded.duration, job_id = excluded.job_id,
                    worker = excluded.worker, started_at = excluded.started_at, finished_at = excluded.finished_at,
                    message = excluded.message, details = excluded.details, stdout = excluded.stdout,
                    stderr = excluded.stderr, extra = excluded.extra, seq = excluded.seq,
                    sections = excluded.sections, process = excluded.process
                """)
            for result in results {
                seq += 1
                try insert.execute(arguments: [
                    claim.runID, result.testID, result.attempt, result.outcome.rawValue, result.duration,
                    claim.jobID, worker, result.startedAt, result.finishedAt, result.message, result.details,
                    result.stdout, result.stderr, result.extra, seq, result.sections, result.process,
                ])
            }
            return true
        }
    }

    public func counts(run: RunID) async throws -> JobCounts {
        try await read { db in try Self.counts(run: run, db: db) }
    }

    static func counts(run: RunID, db: Database) throws -> JobCounts {
        var counts = JobCounts()
        for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM jobs WHERE run_id = ? GROUP BY state",
                                    arguments: [run]) {
            if let state = JobState(rawValue: row[0]) { counts.byState[state] = row[1] }
        }
        return counts
    }

    public func registerWorker(id: String, run: RunID, host: String, pid: Int32) async throws {
        let now = self.now
        try await write { db in
            try db.execute(sql: """
                INSERT INTO workers (id, run_id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, heartbeat_at = excluded.heartbeat_at,
                    stopped_at = NULL
                """, arguments: [id, run, host, pid, now, now])
        }
    }

    public func stopWorker(id: String) async throws {
        let now = self.now
        try await write { db in
            try db.execute(sql: "UPDATE workers SET stopped_at = ?, heartbeat_at = ? WHERE id = ?",
                           arguments: [now, now, id])
        }
    }
}

/// JSON arrays stored as text.
enum JSONText {
    static func encode(_ strings: [String], encoder: JSONEncoder = JSONEncoder()) -> String {
        if strings.isEmpty { return "[]" }
        guard let data = try? encoder.encode(strings) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeStrings(_ text: String?) -> [String] {
        guard let text, let strings = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
            return []
        }
        return strings
    }
}
