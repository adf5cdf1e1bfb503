import Foundation

/// The read side of the store: what reports, history, durations and progress ask,
/// answered with plain values. SQLite implements it today; every backend must pass
/// the same conformance suite.
///
/// Definitions every backend keeps (they are made once, in Swift, from ``Outcome``):
/// - a test's **final attempt** is its highest attempt number (``StoredTest/final``);
/// - an attempt **counts as a failure** when ``Outcome/isFailure``;
/// - an attempt's duration **counts as measured** when ``Outcome/isMeasured``.
public protocol RunReader: Sendable {
    /// Where the data lives, for messages and report headers (a path or a URL).
    var location: String { get }

    /// The run `id`, or the latest run when `id` is nil. Throws
    /// ``QueueError/unknownRun(_:)`` or ``QueueError/noRuns(path:)``.
    func runOrLatest(_ id: RunID?) async throws -> Run

    /// Every run id, newest first.
    func runIDs() async throws -> [RunID]

    /// Every test of the run in node id order (byte order), each with all its attempts in
    /// attempt order. `output` also loads captured stdout/stderr; `details` (tracebacks)
    /// are loaded for attempts that count as failures only.
    func tests(run: RunID, output: Bool) async throws -> [StoredTest]

    /// Every job of the run in id order, as it ended (a reclaimed job shows its last claim).
    func jobs(run: RunID) async throws -> [StoredJob]

    /// Every registered worker of the run.
    func workers(run: RunID) async throws -> [StoredWorker]

    /// The collection errors stored with a run, in the order they were met.
    func collectionErrors(run: RunID) async throws -> [CollectionProblem]

    /// Job counts of a run by state.
    func counts(run: RunID) async throws -> JobCounts

    /// First job start to the later of the last job end and the last result.
    func span(run: RunID) async throws -> RunSpan

    /// How many tests the run holds, and how their final attempts stand.
    func progress(run: RunID) async throws -> ProgressCounts

    /// Tests whose final attempt counts as a failure and finished after `since`, oldest first.
    func failures(run: RunID, since: Double, limit: Int) async throws -> [FailureLine]

    /// One test across the (at most `limit`) newest runs that hold it, newest first.
    func history(nodeid: String, limit: Int) async throws -> [TestRunHistory]

    /// Up to `limit` node ids containing `text`, for "did you mean" hints.
    func nodeIDs(containing text: String, limit: Int) async throws -> [String]

    /// The latest measured duration of every test, over the newest `runs` runs (nil: all).
    func measuredDurations(runs: Int?) async throws -> [String: Double]

    /// Durations stored by ``JobQueue/storeImportedDurations(_:now:)``.
    func importedDurations() async throws -> [String: Double]

    /// The latest run before `run` with the same plan: the same directory, paths and
    /// pytest arguments, and the same set of test node ids (among the 20 latest earlier
    /// runs with the same arguments). Nil when there is none.
    func samePlanRun(before run: RunID) async throws -> RunID?

    /// Every attempt of the run with the worker and pytest process that ran it, in no
    /// particular order (``OrderComparison`` orders them).
    func processedAttempts(run: RunID) async throws -> [ProcessedAttempt]
}

extension Outcome {
    /// The duration of an attempt with this outcome measured the test's body (skips,
    /// crashes, timeouts and tests that never ran did not).
    public var isMeasured: Bool {
        switch self {
        case .passed, .failed, .error, .xfailed, .xpassed: true
        case .skipped, .crashed, .timeout, .notRun: false
        }
    }

    /// A progress line counts these as passed.
    public var isPassing: Bool { self == .passed || self == .xfailed || self == .xpassed }

    /// Outcomes that count as failures.
    public static let failures = allCases.filter(\.isFailure)
    /// Outcomes whose durations count as measured.
    public static let measured = allCases.filter(\.isMeasured)
}

/// What a result records beside its outcome (the `extra` column): pytest's extra
/// counts for the totals line.
public struct ResultExtra: Sendable, Equatable {
    /// A teardown failed after the test itself: pytest counts one more "error".
    public var teardownError = false
    /// The call phase's own outcome when it differs (a pass followed by a teardown error).
    public var callOutcome: Outcome?
    /// Failed subtests (pytest 9), which pytest adds to "failed".
    public var failedSubtests = 0
    /// Warnings pytest recorded for the test (and collection warnings given to a job's first test).
    public var warnings = 0
    /// pytest's headline for the test (`TestK.test_y[1]`).
    public var head: String?
    /// Where pytest's short test summary places a skip (`tests/test_a.py:12`).
    public var skipLocation: String?
    /// The whole crash message when it has several lines (`message` holds the first).
    public var crash: String?

    public init(teardownError: Bool = false, callOutcome: Outcome? = nil, failedSubtests: Int = 0) {
        self.teardownError = teardownError
        self.callOutcome = callOutcome
        self.failedSubtests = failedSubtests
    }

    /// Reads the stored JSON object; nil when there is nothing extra.
    public init?(json: String?) {
        guard let json, !json.isEmpty, json != "{}" else { return nil }
        // Most results have no extra; those that do are small objects: look before parsing.
        teardownError = json.contains(#""teardown_error":true"#) || json.contains(#""teardown_error": true"#)
        if json.contains(#""call_outcome""#), let object = Self.object(json),
           let call = object["call_outcome"] as? String {
            callOutcome = Outcome(rawValue: call)
        }
        if json.contains(#""subtests""#), let object = Self.object(json),
           let sub = object["subtests"] as? [String: Any], let failed = sub["failed"] as? Int {
            failedSubtests = failed
        }
        if let range = json.range(of: #""warnings":"#) {
            warnings = Int(json[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        if json.contains(#""head""#) || json.contains(#""skip_location""#) || json.contains(#""crash""#),
           let object = Self.object(json) {
            head = object["head"] as? String
            skipLocation = object["skip_location"] as? String
            crash = object["crash"] as? String
        }
    }

    private static func object(_ json: String) -> [String: Any]? {
        json.data(using: .utf8).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }
}

/// One recorded attempt of a test.
public struct StoredAttempt: Sendable, Equatable {
    public var attempt: Int
    public var outcome: Outcome
    public var duration: Double
    public var job: JobID?
    public var worker: String?
    public var startedAt: Double?
    public var finishedAt: Double?
    public var message: String?
    /// Traceback excerpt; loaded for failures only.
    public var details: String?
    public var stdout: String?
    public var stderr: String?
    public var extra: ResultExtra?
    /// JSON array text of `[title, text]` pairs (the `sections` column); loaded with output.
    public var sections: String?

    public init(attempt: Int, outcome: Outcome, duration: Double = 0, job: JobID? = nil, worker: String? = nil,
                startedAt: Double? = nil, finishedAt: Double? = nil, message: String? = nil, details: String? = nil,
                stdout: String? = nil, stderr: String? = nil, extra: ResultExtra? = nil, sections: String? = nil) {
        self.attempt = attempt
        self.outcome = outcome
        self.duration = duration
        self.job = job
        self.worker = worker
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.message = message
        self.details = details
        self.stdout = stdout
        self.stderr = stderr
        self.extra = extra
        self.sections = sections
    }
}

/// A test of a run with every attempt recorded for it.
public struct StoredTest: Sendable, Equatable {
    public var nodeid: String
    public var file: String
    /// In attempt order; empty while the test has no result.
    public var attempts: [StoredAttempt]

    public init(nodeid: String, file: String, attempts: [StoredAttempt] = []) {
        self.nodeid = nodeid
        self.file = file
        self.attempts = attempts
    }

    /// The attempt that decides the test: the highest.
    public var final: StoredAttempt? { attempts.last }

    /// Passed in the end after an earlier attempt failed.
    public var flaky: Bool {
        final?.outcome == .passed && attempts.dropLast().contains { $0.outcome.isFailure }
    }
}

/// A job as it ended.
public struct StoredJob: Sendable, Equatable {
    public var id: JobID
    public var name: String
    public var state: JobState
    public var attempt: Int
    /// The worker of its last claim.
    public var worker: String?
    public var startedAt: Double?
    public var finishedAt: Double?
    public var error: String?

    public init(id: JobID, name: String, state: JobState, attempt: Int, worker: String?, startedAt: Double?,
                finishedAt: Double?, error: String?) {
        self.id = id
        self.name = name
        self.state = state
        self.attempt = attempt
        self.worker = worker
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
    }
}

/// A registered worker's life.
public struct StoredWorker: Sendable, Equatable {
    public var id: String
    public var startedAt: Double
    /// When it stopped, else its last heartbeat; nil when neither is known.
    public var endedAt: Double?

    public init(id: String, startedAt: Double, endedAt: Double?) {
        self.id = id
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}

/// When a run's work happened.
public struct RunSpan: Sendable, Equatable {
    /// The first job start.
    public var start: Double?
    /// The later of the last job end and the last result (jobs handed back on a stop
    /// have no end; their results do).
    public var end: Double?

    public init(start: Double?, end: Double?) {
        self.start = start
        self.end = end
    }

    public var seconds: Double { max(0, (end ?? start ?? 0) - (start ?? 0)) }
}

/// A run's progress counts, from each test's final attempt.
public struct ProgressCounts: Sendable, Equatable {
    public var tests: Int
    /// Tests with at least one result.
    public var done: Int
    /// Final attempt passing (``Outcome/isPassing``).
    public var passed: Int
    /// Final attempt failing (``Outcome/isFailure``).
    public var failed: Int

    public init(tests: Int, done: Int, passed: Int, failed: Int) {
        self.tests = tests
        self.done = done
        self.passed = passed
        self.failed = failed
    }
}

/// A failing final attempt, briefly.
public struct FailureLine: Sendable, Equatable {
    public var nodeid: String
    public var outcome: Outcome
    public var message: String?
    public var finishedAt: Double
    /// Which attempt of the test failed (1 unless the test was retried).
    public var attempt: Int = 1

    public init(nodeid: String, outcome: Outcome, message: String?, finishedAt: Double, attempt: Int = 1) {
        self.nodeid = nodeid
        self.outcome = outcome
        self.message = message
        self.finishedAt = finishedAt
        self.attempt = attempt
    }
}

/// One test in one run, for `arun history`.
public struct TestRunHistory: Sendable, Equatable {
    public var run: RunID
    public var runName: String?
    public var runStatus: RunStatus
    /// When the run started (or was created, if it never started).
    public var started: Double
    /// In attempt order (outcome, duration, message only).
    public var attempts: [StoredAttempt]

    public init(run: RunID, runName: String?, runStatus: RunStatus, started: Double, attempts: [StoredAttempt]) {
        self.run = run
        self.runName = runName
        self.runStatus = runStatus
        self.started = started
        self.attempts = attempts
    }
}

/// A whole store: the write side workers and planners use, and the read side reports use.
public typealias RunStore = JobQueue & RunReader & ProgressReader
