import Foundation
internal import GRDB

/// The read side (``RunReader``) of a SQLite database: plain scans in index order, no
/// sorts of results; readers never wait for writers (WAL). ``SQLiteQueue`` reads
/// through one; read-only commands open one alone (``init(readingAt:)``).
public final class SQLiteReader: RunReader {
    /// Absolute path of the database file.
    public let path: String
    let database: any DatabaseReader

    init(path: String, database: any DatabaseReader) {
        self.path = path
        self.database = database
    }

    public var location: String { path }

    /// Opens the database at `path` for reading only: nothing is created, migrated or
    /// locked, so it works on a read-only file in a read-only folder and never waits
    /// for a writer. Throws ``QueueError/missingDatabase(path:)`` when there is no file.
    public convenience init(readingAt path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw QueueError.missingDatabase(path: path)
        }
        if isDirectory.boolValue { throw QueueError.notADatabase(path: path) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        do {
            var database: DatabaseQueue
            do {
                database = try DatabaseQueue(path: path, configuration: configuration)
                try Self.check(database, path: path)
            } catch let error as DatabaseError where [.SQLITE_CANTOPEN, .SQLITE_READONLY].contains(error.resultCode) {
                // A WAL database whose folder cannot hold the shared-memory file: read it
                // as immutable (nobody can be writing there either).
                let escaped = path.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "?", with: "%3f")
                    .replacingOccurrences(of: "#", with: "%23")
                database = try DatabaseQueue(path: "file:\(escaped)?immutable=1", configuration: configuration)
                try Self.check(database, path: path)
            }
            self.init(path: path, database: database)
        } catch let error as DatabaseError {
            throw SQLiteQueue.translate(error, path: path)
        }
    }

    /// Refuses files that are not arun databases or come from a newer arun.
    static func check(_ database: DatabaseQueue, path: String) throws {
        let (hasRuns, applied) = try database.read { db in
            (try db.tableExists("runs"),
             try db.tableExists("grdb_migrations") ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") : [])
        }
        guard hasRuns else { throw QueueError.notADatabase(path: path) }
        if !Set(applied).subtracting(Migrations.all.map(\.id)).isEmpty {
            throw QueueError.newerSchema(path: path, found: applied, known: Migrations.all.count)
        }
    }

    func read<T: Sendable>(_ reads: (Database) throws -> T) async throws -> T {
        do {
            return try database.read(reads)
        } catch let error as DatabaseError {
            throw SQLiteQueue.translate(error, path: path)
        }
    }

    public func runOrLatest(_ id: RunID?) async throws -> Run {
        let found = try await read { db in
            if let id {
                return try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id])
                    .map(SQLiteQueue.run(from:))
            }
            return try Row.fetchOne(db, sql: "SELECT * FROM runs ORDER BY id DESC LIMIT 1").map(SQLiteQueue.run(from:))
        }
        guard let found else { throw id.map(QueueError.unknownRun) ?? QueueError.noRuns(path: path) }
        return found
    }

    public func counts(run: RunID) async throws -> JobCounts {
        try await read { db in try SQLiteQueue.counts(run: run, db: db) }
    }

    public func runIDs() async throws -> [RunID] {
        try await read { db in try RunID.fetchAll(db, sql: "SELECT id FROM runs ORDER BY id DESC") }
    }

    public func tests(run: RunID, output: Bool) async throws -> [StoredTest] {
        try await read { db in try SQLiteQueue.tests(run: run, output: output, db: db) }
    }

    public func jobs(run: RunID) async throws -> [StoredJob] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, name, state, attempt, lease_owner, started_at, finished_at, error
                FROM jobs WHERE run_id = ? ORDER BY id
                """, arguments: [run]).map {
                StoredJob(id: $0[0], name: $0[1], state: JobState(rawValue: $0[2]) ?? .queued, attempt: $0[3],
                          worker: $0[4], startedAt: $0[5], finishedAt: $0[6], error: $0[7])
            }
        }
    }

    public func workers(run: RunID) async throws -> [StoredWorker] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, started_at, COALESCE(stopped_at, heartbeat_at) FROM workers WHERE run_id = ? ORDER BY id
                """, arguments: [run]).map { StoredWorker(id: $0[0], startedAt: $0[1], endedAt: $0[2]) }
        }
    }

    public func collectionErrors(run: RunID) async throws -> [CollectionProblem] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT location, message FROM collection_errors WHERE run_id = ? ORDER BY id",
                             arguments: [run]).map { CollectionProblem(location: $0[0], message: $0[1]) }
        }
    }

    public func span(run: RunID) async throws -> RunSpan {
        try await read { db in
            let jobs = try Row.fetchOne(db, sql: """
                SELECT MIN(started_at), MAX(finished_at) FROM jobs WHERE run_id = ? AND started_at IS NOT NULL
                """, arguments: [run])
            let lastResult = try Double.fetchOne(db, sql: "SELECT MAX(finished_at) FROM results WHERE run_id = ?",
                                                 arguments: [run])
            return RunSpan(start: jobs?[0], end: [jobs?[1] as Double?, lastResult].compactMap { $0 }.max())
        }
    }

    public func progress(run: RunID) async throws -> ProgressCounts {
        try await read { db in
            let tests = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tests WHERE run_id = ?", arguments: [run]) ?? 0
            var done = 0, passed = 0, failed = 0
            // Attempts in primary-key order; a test's last row is its final attempt.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT test_id, outcome FROM results WHERE run_id = ? ORDER BY test_id, attempt
                """, arguments: [run])
            var current: TestID?
            var final: Outcome?
            func count() {
                guard current != nil else { return }
                done += 1
                if final?.isPassing == true { passed += 1 }
                if final?.isFailure == true { failed += 1 }
            }
            while let row = try rows.next() {
                let id: TestID = row[0]
                if id != current { count(); current = id }
                final = Outcome(rawValue: row[1])
            }
            count()
            return ProgressCounts(tests: tests, done: done, passed: passed, failed: failed)
        }
    }

    public func failures(run: RunID, since: Double, limit: Int) async throws -> [FailureLine] {
        try await read { db in
            var arguments = StatementArguments([run])
            arguments += StatementArguments(Outcome.failures.map(\.rawValue))
            arguments += [since, limit]
            return try Row.fetchAll(db, sql: """
                SELECT t.nodeid, r.outcome, r.message, r.finished_at, r.attempt
                FROM results r JOIN tests t ON t.id = r.test_id
                WHERE r.run_id = ? AND r.outcome IN \(SQLiteQueue.placeholders(Outcome.failures.count)) AND r.finished_at > ?
                  AND \(SQLiteQueue.isFinalAttempt("r"))
                ORDER BY r.finished_at LIMIT ?
                """, arguments: arguments).map {
                FailureLine(nodeid: $0[0], outcome: Outcome(rawValue: $0[1]) ?? .failed, message: $0[2],
                            finishedAt: $0[3], attempt: $0[4])
            }
        }
    }

    public func history(nodeid: String, limit: Int) async throws -> [TestRunHistory] {
        try await read { db in
            let holders = try Row.fetchAll(db, sql: """
                SELECT t.run_id, t.id, r.name, r.status, COALESCE(r.started_at, r.created_at)
                FROM tests t JOIN runs r ON r.id = t.run_id
                WHERE t.nodeid = ? ORDER BY t.run_id DESC LIMIT ?
                """, arguments: [nodeid, limit])
            let attempts = try db.makeStatement(sql: """
                SELECT attempt, outcome, duration, message FROM results WHERE run_id = ? AND test_id = ? ORDER BY attempt
                """)
            return try holders.map { holder in
                let rows = try Row.fetchAll(attempts, arguments: [holder[0], holder[1]])
                return TestRunHistory(
                    run: holder[0], runName: holder[2], runStatus: RunStatus(rawValue: holder[3]) ?? .planned,
                    started: holder[4], attempts: rows.compactMap { row in
                        Outcome(rawValue: row[1]).map {
                            StoredAttempt(attempt: row[0], outcome: $0, duration: row[2] ?? 0, message: row[3])
                        }
                    })
            }
        }
    }

    public func nodeIDs(containing text: String, limit: Int) async throws -> [String] {
        try await read { db in
            let pattern = "%" + text.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
            return try String.fetchAll(db, sql: """
                SELECT DISTINCT nodeid FROM tests WHERE nodeid LIKE ? ESCAPE '\\' ORDER BY nodeid LIMIT ?
                """, arguments: [pattern, limit])
        }
    }

    public func measuredDurations(runs: Int?) async throws -> [String: Double] {
        try await read { db in
            var durations: [String: Double] = [:]
            var arguments = StatementArguments()
            var scope = ""
            if let runs {
                scope = "r.run_id IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?) AND "
                arguments += [runs]
            }
            arguments += StatementArguments(Outcome.measured.map(\.rawValue))
            // Runs in id order, attempts in order: the last row seen for a node id is its latest.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT t.nodeid, r.duration FROM results r JOIN tests t ON t.id = r.test_id
                WHERE \(scope)r.outcome IN \(SQLiteQueue.placeholders(Outcome.measured.count))
                ORDER BY r.run_id, r.attempt
                """, arguments: arguments)
            while let row = try rows.next() { durations[row[0]] = row[1] }
            return durations
        }
    }

    public func importedDurations() async throws -> [String: Double] {
        try await read { db in
            var durations: [String: Double] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT nodeid, seconds FROM imported_durations")
            while let row = try rows.next() { durations[row[0]] = row[1] }
            return durations
        }
    }
}

extension SQLiteQueue: RunReader {
    /// The read side on this queue's own connections.
    var reader: SQLiteReader { SQLiteReader(path: path, database: pool) }

    public var location: String { path }
    public func runIDs() async throws -> [RunID] { try await reader.runIDs() }
    public func tests(run: RunID, output: Bool) async throws -> [StoredTest] {
        try await reader.tests(run: run, output: output)
    }
    public func jobs(run: RunID) async throws -> [StoredJob] { try await reader.jobs(run: run) }
    public func workers(run: RunID) async throws -> [StoredWorker] { try await reader.workers(run: run) }
    public func collectionErrors(run: RunID) async throws -> [CollectionProblem] {
        try await reader.collectionErrors(run: run)
    }
    public func span(run: RunID) async throws -> RunSpan { try await reader.span(run: run) }
    public func progress(run: RunID) async throws -> ProgressCounts { try await reader.progress(run: run) }
    public func failures(run: RunID, since: Double, limit: Int) async throws -> [FailureLine] {
        try await reader.failures(run: run, since: since, limit: limit)
    }
    public func history(nodeid: String, limit: Int) async throws -> [TestRunHistory] {
        try await reader.history(nodeid: nodeid, limit: limit)
    }
    public func nodeIDs(containing text: String, limit: Int) async throws -> [String] {
        try await reader.nodeIDs(containing: text, limit: limit)
    }
    public func measuredDurations(runs: Int?) async throws -> [String: Double] {
        try await reader.measuredDurations(runs: runs)
    }
    public func importedDurations() async throws -> [String: Double] { try await reader.importedDurations() }

    public func storeImportedDurations(_ durations: [String: Double], now: Double) async throws {
        try await write { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO imported_durations (nodeid, seconds, imported_at) VALUES (?, ?, ?)
                ON CONFLICT (nodeid) DO UPDATE SET seconds = excluded.seconds, imported_at = excluded.imported_at
                """)
            for (nodeid, seconds) in durations { try statement.execute(arguments: [nodeid, seconds, now]) }
        }
    }

    /// Two sequential scans: the run's tests in node id order (its unique index), then
    /// its results in primary-key order (test, attempt).
    static func tests(run: RunID, output: Bool, db: Database) throws -> [StoredTest] {
        // Test ids of a run are mostly one contiguous range (tests are inserted run by run):
        // a flat table from id to position then replaces a dictionary.
        let bounds = try Row.fetchOne(db, sql: "SELECT COUNT(*), MIN(id), MAX(id) FROM tests WHERE run_id = ?",
                                      arguments: [run])
        let count: Int = bounds?[0] ?? 0
        let lowest: TestID = bounds?[1] ?? 0
        let span = Int((bounds?[2] as TestID? ?? 0) - lowest + 1)
        var flat: [Int32] = span > 0 && span <= max(1_024, 4 * count) ? Array(repeating: -1, count: span) : []
        var position: [TestID: Int] = [:]
        var tests: [StoredTest] = []
        tests.reserveCapacity(count)
        let testRows = try Row.fetchCursor(db, sql: "SELECT id, nodeid, file FROM tests WHERE run_id = ? ORDER BY nodeid",
                                           arguments: [run])
        while let row = try testRows.next() {
            let id: TestID = row[0]
            if flat.isEmpty { position[id] = tests.count } else { flat[Int(id - lowest)] = Int32(tests.count) }
            tests.append(StoredTest(nodeid: row[1], file: row[2]))
        }
        var arguments: StatementArguments = StatementArguments(Outcome.failures.map(\.rawValue))
        arguments += [run]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT test_id, attempt, outcome, duration, job_id, worker, started_at, finished_at, message,
                   CASE WHEN outcome IN \(placeholders(Outcome.failures.count)) THEN details END, extra,
                   \(output ? "stdout, stderr, sections" : "NULL, NULL, NULL")
            FROM results WHERE run_id = ? ORDER BY test_id, attempt
            """, arguments: arguments)
        while let row = try rows.next() {
            let id: TestID = row[0]
            guard let outcome = (row[2] as String?).flatMap(Outcome.init(rawValue:)) else { continue }
            let slot: Int?
            if flat.isEmpty {
                slot = position[id]
            } else {
                let offset = Int(id - lowest)
                slot = offset >= 0 && offset < flat.count && flat[offset] >= 0 ? Int(flat[offset]) : nil
            }
            guard let index = slot else { continue }
            tests[index].attempts.append(StoredAttempt(
                attempt: row[1], outcome: outcome, duration: row[3] ?? 0, job: row[4], worker: row[5],
                startedAt: row[6], finishedAt: row[7], message: row[8], details: row[9], stdout: row[11],
                stderr: row[12], extra: ResultExtra(json: row[10]), sections: row[13]))
        }
        return tests
    }

    /// `(?, ?, …)` for an `IN` list of bound values.
    static func placeholders(_ count: Int) -> String {
        "(" + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
    }

    /// SQL true when the results row `alias` is its test's final attempt (``StoredTest/final``).
    static func isFinalAttempt(_ alias: String) -> String {
        """
        NOT EXISTS (SELECT 1 FROM results later WHERE later.run_id = \(alias).run_id
                    AND later.test_id = \(alias).test_id AND later.attempt > \(alias).attempt)
        """
    }
}
