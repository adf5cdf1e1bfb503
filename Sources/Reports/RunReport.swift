import Foundation
import GRDB
import Queue

/// Everything a report shows about one run (or several shard runs merged): every
/// test with its final attempt and earlier failures, every job, every worker.
/// Loaded once; the formats (`text`, `json`, `junit`, `markdown`, `html`) only render it.
public struct RunReport: Sendable {
    /// Where the report's data came from: one database and run per shard.
    public struct Source: Sendable, Equatable {
        public var path: String
        public var run: Run
    }

    /// One test: its final (highest) attempt, and the failing attempts before it.
    public struct TestRecord: Sendable {
        public var nodeid: String
        public var file: String
        /// The final attempt's outcome; nil when the test has no result yet.
        public var outcome: Outcome?
        /// Attempts recorded (the highest attempt number).
        public var attempts: Int
        /// Seconds of the final attempt.
        public var duration: Double
        /// Seconds of every attempt together.
        public var totalDuration: Double
        public var worker: String?
        public var job: JobID?
        public var startedAt: Double?
        public var finishedAt: Double?
        public var message: String?
        /// Traceback excerpt, for failures.
        public var details: String?
        /// Captured output of the final attempt (loaded for JUnit only).
        public var stdout: String?
        public var stderr: String?
        /// Failing attempts before the final one, oldest first.
        public var earlierFailures: [Attempt]
        /// Index into ``RunReport/sources``.
        public var source: Int

        /// Final attempt passed after an earlier one failed.
        public var flaky: Bool { outcome == .passed && !earlierFailures.isEmpty }
        public var failing: Bool { outcome?.isFailure ?? false }
        /// The status `--status` filters on: the outcome, or `pending`.
        public var status: String { outcome?.rawValue ?? "pending" }

        /// Takes the next attempt as the final one; the previous final attempt, when it
        /// failed, becomes an earlier failure.
        mutating func record(attempt: Int, outcome: Outcome, duration: Double, job: JobID?, worker: String?,
                             startedAt: Double?, finishedAt: Double?, message: String?, details: String?,
                             stdout: String?, stderr: String?) {
            if let previous = self.outcome, previous.isFailure {
                earlierFailures.append(Attempt(
                    attempt: attempts, outcome: previous, duration: self.duration, message: self.message,
                    details: self.details, stdout: self.stdout, stderr: self.stderr))
            }
            self.outcome = outcome
            self.attempts = attempt
            self.duration = duration
            self.totalDuration += duration
            self.job = job
            self.worker = worker
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.message = message
            self.details = details
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// One earlier attempt of a test.
    public struct Attempt: Sendable {
        public var attempt: Int
        public var outcome: Outcome
        public var duration: Double
        public var message: String?
        public var details: String?
        public var stdout: String?
        public var stderr: String?
    }

    /// One job as it ended (a job reclaimed from a dead worker shows its last claim).
    public struct JobRecord: Sendable {
        public var id: JobID
        public var name: String
        public var state: JobState
        public var attempts: Int
        public var worker: String?
        public var startedAt: Double?
        public var finishedAt: Double?
        public var error: String?
        public var source: Int
    }

    /// How one worker spent the run.
    public struct WorkerStat: Sendable {
        public var id: String
        public var jobs: Int
        public var tests: Int
        /// Seconds inside jobs (claim to completion: pytest start-up included).
        public var busySeconds: Double
        /// Seconds inside test bodies (sum of test durations).
        public var testSeconds: Double
        /// Seconds the worker was alive (registration to stop or last heartbeat),
        /// or the run's wall time when it was not registered.
        public var aliveSeconds: Double
        /// Share of its life the worker spent outside jobs, 0…1.
        public var idleShare: Double {
            aliveSeconds > 0 ? min(1, max(0, 1 - busySeconds / aliveSeconds)) : 0
        }
    }

    /// Tests present in the shards more than once, or in none (merge only).
    public struct MergeProblems: Sendable, Equatable {
        /// Node ids with results in two or more databases, with those databases.
        public var duplicates: [(nodeid: String, sources: [Int])]
        /// Node ids no shard has a result for.
        public var missing: [String]
        /// Shard indexes (`--shard-index`) no database holds, when the shards say how many there are.
        public var missingShards: [Int]
        public var shardCount: Int?

        public var isEmpty: Bool { duplicates.isEmpty && missing.isEmpty && missingShards.isEmpty }

        public static func == (lhs: MergeProblems, rhs: MergeProblems) -> Bool {
            lhs.missing == rhs.missing && lhs.missingShards == rhs.missingShards && lhs.shardCount == rhs.shardCount
                && lhs.duplicates.map(\.nodeid) == rhs.duplicates.map(\.nodeid)
                && lhs.duplicates.map(\.sources) == rhs.duplicates.map(\.sources)
        }
    }

    public var sources: [Source]
    /// pytest-style totals (teardown errors and failed subtests counted as pytest does).
    public var summary: RunSummary
    /// Every test, in node id order (shard by shard when merged).
    public var tests: [TestRecord]
    public var jobs: [JobRecord]
    public var workers: [WorkerStat]
    public var collectionErrors: [CollectionProblem]
    public var merge: MergeProblems?

    public var run: Run { sources[0].run }

    // MARK: - Derived figures

    /// `complete` (every test has a result and the run ended), `interrupted` (stopped
    /// or cancelled), `incomplete` (planned, still running, or tests without results).
    public var status: String {
        let runs = sources.map(\.run.status)
        if runs.contains(where: { $0 == .interrupted || $0 == .cancelled }) { return "interrupted" }
        if runs.allSatisfy({ $0 == .complete }) && summary.pending == 0 { return "complete" }
        return "incomplete"
    }

    /// First job start to last job end.
    public var wallSeconds: Double { summary.wallSeconds }

    /// Workers that ran at least one job or test.
    public var workerCount: Int { workers.count }

    /// Sum of every attempt's duration.
    public var testSeconds: Double {
        var total = 0.0
        for index in tests.indices { total += tests[index].totalDuration }
        return total
    }

    /// Sum of test durations / (workers × wall time), 0…1 (more when durations overlap
    /// clock skew); nil when nothing ran.
    public var efficiency: Double? {
        let capacity = Double(workerCount) * wallSeconds
        return capacity > 0 ? testSeconds / capacity : nil
    }

    /// Final outcome counts, one per test, plus `flaky` and `pending`.
    public var totals: [String: Int] {
        var counts: [String: Int] = [:]
        for name in Self.totalNames { counts[name] = 0 }
        var byOutcome = [Int](repeating: 0, count: Outcome.allCases.count)
        var pending = 0
        var flaky = 0
        let order = Dictionary(uniqueKeysWithValues: Outcome.allCases.enumerated().map { ($1, $0) })
        for index in tests.indices {
            guard let outcome = tests[index].outcome else {
                pending += 1
                continue
            }
            byOutcome[order[outcome] ?? 0] += 1
            if tests[index].flaky { flaky += 1 }
        }
        for (outcome, position) in order { counts[outcome.rawValue] = byOutcome[position] }
        counts["flaky"] = flaky
        counts["pending"] = pending
        return counts
    }

    /// Keys of ``totals`` in documented order.
    public static let totalNames = Outcome.allCases.map(\.rawValue) + ["flaky", "pending"]
    /// What `--status` accepts.
    public static let statusNames = Outcome.allCases.map(\.rawValue) + ["flaky", "pending"]

    /// Tests whose final attempt failed.
    public var failures: [TestRecord] { tests.filter { $0.failing } }
    public var flakyTests: [TestRecord] { tests.filter { $0.flaky } }

    /// The `count` slowest tests by final attempt (ties: node id order).
    public func slowest(_ count: Int) -> [TestRecord] {
        guard count > 0 else { return [] }
        // One pass keeping the best `count` indexes: no sort of every test.
        var best: [Int] = []
        for index in tests.indices where tests[index].outcome != nil {
            let duration = tests[index].duration
            if best.count == count, let last = best.last, tests[last].duration >= duration { continue }
            let position = best.firstIndex { tests[$0].duration < duration } ?? best.endIndex
            best.insert(index, at: position)
            if best.count > count { best.removeLast() }
        }
        return best.map { tests[$0] }
    }

    /// Tests whose status is one of `statuses` (an outcome, `flaky` or `pending`).
    public func tests(withStatus statuses: Set<String>) -> [TestRecord] {
        tests.filter { statuses.contains($0.status) || ($0.flaky && statuses.contains("flaky")) }
    }

    /// Parses `failed,error` into statuses, refusing unknown names.
    public static func parseStatuses(_ text: String) throws -> Set<String> {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
            .map { $0 == "not-run" || $0 == "notrun" ? "not_run" : $0 }
        for name in names where !statusNames.contains(name) { throw ReportError.unknownStatus(name) }
        if names.isEmpty { throw ReportError.unknownStatus("(empty)") }
        return Set(names)
    }
}

// MARK: - Loading

extension RunReport {
    /// The report of `run` in `queue`'s database. `output` also loads captured
    /// stdout/stderr (JUnit writes them; the other formats do not need them).
    public static func load(run: RunID, from queue: SQLiteQueue, output: Bool = false) throws -> RunReport {
        try queue.readSync { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [run]) else {
                throw QueueError.unknownRun(run)
            }
            let stored = SQLiteQueue.run(from: row)
            let loaded = try loadTests(run: run, db: db, output: output, source: 0)
            let summary = try RunSummary.make(run: stored, tally: loaded.tally, db: db)
            let jobs = try loadJobs(run: run, db: db, source: 0)
            let workers = try loadWorkers(run: run, db: db, wall: summary.wallSeconds, results: loaded.workers)
            let errors = try Row.fetchAll(db, sql: """
                SELECT location, message FROM collection_errors WHERE run_id = ? ORDER BY id
                """, arguments: [run]).map { CollectionProblem(location: $0[0], message: $0[1]) }
            return RunReport(sources: [Source(path: queue.path, run: stored)], summary: summary, tests: loaded.tests,
                             jobs: jobs, workers: workers, collectionErrors: errors, merge: nil)
        }
    }

    /// Tests, a tally of their final attempts, and per-worker result counts, from two
    /// sequential scans: the run's tests in node id order (its unique index), then its
    /// results in primary-key order (test, attempt). No sort, no aggregate query.
    static func loadTests(run: RunID, db: Database, output: Bool, source: Int) throws
        -> (tests: [TestRecord], tally: RunSummary.Tally, workers: [String: (tests: Int, seconds: Double)]) {
        // Test ids of a run are mostly one contiguous range (tests are inserted run by run):
        // a flat table from id to position then replaces a dictionary.
        let bounds = try Row.fetchOne(db, sql: "SELECT COUNT(*), MIN(id), MAX(id) FROM tests WHERE run_id = ?",
                                      arguments: [run])
        let count: Int = bounds?[0] ?? 0
        let lowest: TestID = bounds?[1] ?? 0
        let span = Int((bounds?[2] as TestID? ?? 0) - lowest + 1)
        var flat: [Int32] = span > 0 && span <= max(1_024, 4 * count) ? Array(repeating: -1, count: span) : []
        var position: [TestID: Int] = [:]
        var tests: [TestRecord] = []
        tests.reserveCapacity(count)
        let testRows = try Row.fetchCursor(db, sql: """
            SELECT id, nodeid, file FROM tests WHERE run_id = ? ORDER BY nodeid
            """, arguments: [run])
        while let row = try testRows.next() {
            let id: TestID = row[0]
            if flat.isEmpty { position[id] = tests.count } else { flat[Int(id - lowest)] = Int32(tests.count) }
            tests.append(TestRecord(
                nodeid: row[1], file: row[2], outcome: nil, attempts: 0, duration: 0, totalDuration: 0,
                worker: nil, job: nil, startedAt: nil, finishedAt: nil, message: nil, details: nil,
                stdout: nil, stderr: nil, earlierFailures: [], source: source))
        }
        let table = flat
        let positions = position
        var tally = RunSummary.Tally()
        var workers: [String: (tests: Int, seconds: Double)] = [:]
        var currentWorker: String?
        var currentCount: (tests: Int, seconds: Double) = (0, 0)
        let rows = try Row.fetchCursor(db, sql: """
            SELECT test_id, attempt, outcome, duration, job_id, worker, started_at, finished_at, message,
                   CASE WHEN outcome IN \(RunSummary.failingSQL) THEN details END, extra,
                   \(output ? "stdout, stderr" : "NULL, NULL")
            FROM results WHERE run_id = ? ORDER BY test_id, attempt
            """, arguments: [run])
        while let row = try rows.next() {
            let id: TestID = row[0]
            let outcome = (row[2] as String?).flatMap(Outcome.init(rawValue:))
            tally.attempt(test: id, outcome: outcome, extra: row[10])
            let duration: Double = row[3] ?? 0
            let worker: String? = row[5]
            if let worker {
                // Neighbouring results mostly share a worker (one job's tests): count them
                // locally and touch the dictionary only when the worker changes.
                if worker != currentWorker {
                    if let currentWorker { Self.add(currentCount, to: currentWorker, in: &workers) }
                    currentWorker = worker
                    currentCount = (0, 0)
                }
                currentCount.tests += 1
                currentCount.seconds += duration
            }
            let slot: Int?
            if table.isEmpty {
                slot = positions[id]
            } else {
                let offset = Int(id - lowest)
                slot = offset >= 0 && offset < table.count && table[offset] >= 0 ? Int(table[offset]) : nil
            }
            guard let outcome, let index = slot else { continue }
            tests[index].record(
                attempt: row[1], outcome: outcome, duration: duration, job: row[4], worker: worker,
                startedAt: row[6], finishedAt: row[7], message: row[8], details: row[9], stdout: row[11],
                stderr: row[12])
        }
        if let currentWorker { Self.add(currentCount, to: currentWorker, in: &workers) }
        tally.finish()
        return (tests, tally, workers)
    }

    private static func add(_ count: (tests: Int, seconds: Double), to worker: String,
                            in workers: inout [String: (tests: Int, seconds: Double)]) {
        let old = workers[worker] ?? (0, 0)
        workers[worker] = (old.tests + count.tests, old.seconds + count.seconds)
    }

    static func loadJobs(run: RunID, db: Database, source: Int) throws -> [JobRecord] {
        try Row.fetchAll(db, sql: """
            SELECT id, name, state, attempt, lease_owner, started_at, finished_at, error
            FROM jobs WHERE run_id = ? ORDER BY id
            """, arguments: [run]).map {
            JobRecord(id: $0[0], name: $0[1], state: JobState(rawValue: $0[2]) ?? .queued, attempts: $0[3],
                      worker: $0[4], startedAt: $0[5], finishedAt: $0[6], error: $0[7], source: source)
        }
    }

    /// Busy time from the jobs each worker finished, test counts and time from its
    /// results (`results`, tallied while loading tests), life from the `workers` table.
    static func loadWorkers(run: RunID, db: Database, wall: Double,
                            results: [String: (tests: Int, seconds: Double)]) throws -> [WorkerStat] {
        var stats: [String: WorkerStat] = [:]
        func stat(_ id: String) -> WorkerStat {
            stats[id] ?? WorkerStat(id: id, jobs: 0, tests: 0, busySeconds: 0, testSeconds: 0, aliveSeconds: wall)
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT lease_owner, COUNT(*), SUM(finished_at - started_at) FROM jobs
            WHERE run_id = ? AND lease_owner IS NOT NULL AND started_at IS NOT NULL AND finished_at IS NOT NULL
            GROUP BY lease_owner
            """, arguments: [run]) {
            var worker = stat(row[0])
            worker.jobs = row[1]
            worker.busySeconds = max(0, row[2] ?? 0)
            stats[worker.id] = worker
        }
        for (id, result) in results {
            var worker = stat(id)
            worker.tests = result.tests
            worker.testSeconds = result.seconds
            stats[id] = worker
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT id, started_at, COALESCE(stopped_at, heartbeat_at) FROM workers WHERE run_id = ?
            """, arguments: [run]) {
            let id: String = row[0]
            // Registered workers that never claimed a job were idle all their life.
            var worker = stat(id)
            let started: Double = row[1]
            let ended: Double = row[2] ?? started
            worker.aliveSeconds = max(worker.busySeconds, ended - started)
            stats[id] = worker
        }
        return stats.values.sorted { $0.id.localizedStandardCompare($1.id) == .orderedAscending }
    }
}

extension Run {
    /// The run's `settings` JSON object, as strings.
    var settingsObject: [String: String] {
        guard let data = settings.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.compactMapValues { value in
            if let string = value as? String { return string }
            if let number = value as? NSNumber { return number.stringValue }
            return nil
        }
    }
}
