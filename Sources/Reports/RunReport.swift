import Foundation
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
        /// What pytest adds about the final attempt: captured sections, headline, skip location.
        public var captured: Captured = Captured()
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
                             stdout: String?, stderr: String?, captured: Captured = Captured()) {
            if let previous = self.outcome, previous.isFailure {
                earlierFailures.append(Attempt(
                    attempt: attempts, outcome: previous, duration: self.duration, message: self.message,
                    details: self.details, stdout: self.stdout, stderr: self.stderr, captured: self.captured,
                    job: self.job, worker: self.worker))
            }
            self.captured = captured
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
        public var captured: Captured = Captured()
        /// Where the attempt ran (the timeline draws the job as failing).
        public var job: JobID?
        public var worker: String?
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
    /// Tests whose outcome differs from an earlier run of the same plan (one run only).
    public var order: OrderComparison? = nil
    /// The compared run was named (`--compare`) rather than found by its plan.
    public var orderExplicit = false

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
        counts["warnings"] = summary.warnings
        return counts
    }

    /// Keys of ``totals`` in documented order.
    public static let totalNames = Outcome.allCases.map(\.rawValue) + ["flaky", "pending", "warnings"]
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
    /// The report of `run`. `output` also loads captured stdout/stderr and sections
    /// (markdown does not need them). `compare` names the run the order-dependent tests
    /// are found against (default: the latest earlier run of the same plan).
    public static func load(run id: RunID, from reader: some RunReader, output: Bool = false,
                            compare: RunID? = nil, order: Bool = true) async throws -> RunReport {
        let run = try await reader.runOrLatest(id)
        let stored = try await reader.tests(run: id, output: output)
        let summary = try await RunSummary.make(run: run, tests: stored, reader: reader)
        var tests: [TestRecord] = []
        tests.reserveCapacity(stored.count)
        for test in stored { tests.append(TestRecord(test, source: 0)) }
        let jobs = try await reader.jobs(run: id).map { JobRecord($0, source: 0) }
        let workers = try await workerStats(jobs: jobs, tests: stored, registered: reader.workers(run: id),
                                            wall: summary.wallSeconds)
        if let compare { _ = try await reader.runOrLatest(compare) }  // an unknown run is the user's to fix
        return RunReport(sources: [Source(path: reader.location, run: run)], summary: summary, tests: tests,
                         jobs: jobs, workers: workers, collectionErrors: try await reader.collectionErrors(run: id),
                         merge: nil, order: order ? try await reader.orderComparison(run: id, comparedWith: compare) : nil,
                         orderExplicit: compare != nil)
    }

    /// Busy time from the jobs each worker finished, test counts and time from every
    /// attempt it recorded, life from its registration.
    static func workerStats(jobs: [JobRecord], tests: [StoredTest], registered: [StoredWorker],
                            wall: Double) -> [WorkerStat] {
        var stats: [String: WorkerStat] = [:]
        func stat(_ id: String) -> WorkerStat {
            stats[id] ?? WorkerStat(id: id, jobs: 0, tests: 0, busySeconds: 0, testSeconds: 0, aliveSeconds: wall)
        }
        for job in jobs {
            guard let id = job.worker, let started = job.startedAt, let finished = job.finishedAt else { continue }
            var worker = stat(id)
            worker.jobs += 1
            worker.busySeconds += finished - started
            stats[id] = worker
        }
        for (id, worker) in stats { stats[id]?.busySeconds = max(0, worker.busySeconds) }
        // Neighbouring attempts mostly share a worker (one job's tests): count them
        // locally and touch the dictionary only when the worker changes.
        var current: String?
        var count: (tests: Int, seconds: Double) = (0, 0)
        func flush() {
            guard let current else { return }
            var worker = stat(current)
            worker.tests += count.tests
            worker.testSeconds += count.seconds
            stats[current] = worker
        }
        for test in tests {
            for attempt in test.attempts {
                guard let worker = attempt.worker else { continue }
                if worker != current {
                    flush()
                    current = worker
                    count = (0, 0)
                }
                count.tests += 1
                count.seconds += attempt.duration
            }
        }
        flush()
        for registration in registered {
            // Registered workers that never claimed a job were idle all their life.
            var worker = stat(registration.id)
            let ended = registration.endedAt ?? registration.startedAt
            worker.aliveSeconds = max(worker.busySeconds, ended - registration.startedAt)
            stats[registration.id] = worker
        }
        return stats.values.sorted { $0.id.localizedStandardCompare($1.id) == .orderedAscending }
    }
}

extension RunReport.TestRecord {
    /// The record of a stored test: its final attempt, and the failing ones before it.
    init(_ test: StoredTest, source: Int) {
        self.init(nodeid: test.nodeid, file: test.file, outcome: nil, attempts: 0, duration: 0, totalDuration: 0,
                  worker: nil, job: nil, startedAt: nil, finishedAt: nil, message: nil, details: nil,
                  stdout: nil, stderr: nil, earlierFailures: [], source: source)
        for attempt in test.attempts {
            record(attempt: attempt.attempt, outcome: attempt.outcome, duration: attempt.duration, job: attempt.job,
                   worker: attempt.worker, startedAt: attempt.startedAt, finishedAt: attempt.finishedAt,
                   message: attempt.message, details: attempt.details, stdout: attempt.stdout, stderr: attempt.stderr,
                   captured: Captured(extra: attempt.extra, sections: attempt.sections))
        }
    }
}

extension RunReport.JobRecord {
    init(_ job: StoredJob, source: Int) {
        self.init(id: job.id, name: job.name, state: job.state, attempts: job.attempt, worker: job.worker,
                  startedAt: job.startedAt, finishedAt: job.finishedAt, error: job.error, source: source)
    }
}
