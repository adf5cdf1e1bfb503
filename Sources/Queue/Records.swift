import Foundation

/// Row ids are SQLite integers.
public typealias RunID = Int64
public typealias JobID = Int64
public typealias TestID = Int64

/// Where a job is in its life. `queued → running → done | failed | dead | cancelled`;
/// `running` may also return to `queued` (lease expired, retry, hand-back).
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued, running, done, failed, dead, cancelled

    /// States a job never leaves.
    public var isFinal: Bool { self != .queued && self != .running }
}

/// How a run ended, or that it has not.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case planned, running, complete, interrupted, cancelled
}

/// The final verdict on one attempt of one test.
public enum Outcome: String, Sendable, Codable, CaseIterable {
    case passed, failed, error, skipped, xfailed, xpassed, crashed, timeout
    case notRun = "not_run"

    /// Outcomes that make a run fail (pytest exit code 1).
    public var isFailure: Bool {
        switch self {
        case .failed, .error, .crashed, .timeout: true
        case .passed, .skipped, .xfailed, .xpassed, .notRun: false
        }
    }
}

/// What a new run records about its invocation.
public struct NewRun: Sendable, Equatable {
    public var name: String?
    public var directory: String
    public var paths: [String]
    public var pytestArgs: [String]
    /// How the run was started, for the commands that continue it.
    public var settings: RunSettings
    /// What pytest could not collect while planning.
    public var collectionErrors: [CollectionProblem]

    public init(name: String? = nil, directory: String = "", paths: [String] = [],
                pytestArgs: [String] = [], settings: RunSettings = RunSettings(), collectionErrors: [CollectionProblem] = []) {
        self.name = name
        self.directory = directory
        self.paths = paths
        self.pytestArgs = pytestArgs
        self.settings = settings
        self.collectionErrors = collectionErrors
    }
}

/// A file or node pytest failed to collect.
public struct CollectionProblem: Sendable, Equatable, Codable {
    public var location: String
    public var message: String

    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }
}

/// A run as stored.
public struct Run: Sendable, Equatable, Identifiable {
    public var id: RunID
    public var name: String?
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    public var status: RunStatus
    public var directory: String
    public var paths: [String]
    public var pytestArgs: [String]
    public var settings: RunSettings
    /// Seconds its invocations took, idle gaps between them excluded (0 before one ended).
    public var activeSeconds: Double = 0
}

/// A test a job will run. `file` and `marks` are stored once per run.
public struct NewTest: Sendable, Hashable, Codable {
    public var nodeid: String
    public var file: String
    public var marks: [String]
    /// Which attempt of this test the job records (1 on the first run).
    public var attempt: Int

    public init(nodeid: String, file: String = "", marks: [String] = [], attempt: Int = 1) {
        self.nodeid = nodeid
        self.file = file
        self.marks = marks
        self.attempt = attempt
    }
}

/// A job to enqueue.
public struct NewJob: Sendable, Equatable {
    public var name: String
    public var estimatedSeconds: Double
    public var maxAttempts: Int
    public var payload: String
    public var tests: [NewTest]

    public init(name: String, estimatedSeconds: Double = 0, maxAttempts: Int = 3,
                payload: String = "", tests: [NewTest] = []) {
        self.name = name
        self.estimatedSeconds = estimatedSeconds
        self.maxAttempts = maxAttempts
        self.payload = payload
        self.tests = tests
    }
}

/// Proof that a worker holds a job. Every write about the job carries it, and
/// applies only while the job is still `running` under this owner and attempt,
/// so a worker that lost its lease cannot overwrite its successor's work.
public struct Claim: Sendable, Equatable {
    public var jobID: JobID
    public var runID: RunID
    public var name: String
    public var owner: String
    public var attempt: Int
    public var maxAttempts: Int
    public var estimatedSeconds: Double
    public var leaseExpiresAt: Double
    public var payload: String

    public init(jobID: JobID, runID: RunID, name: String, owner: String, attempt: Int, maxAttempts: Int,
                estimatedSeconds: Double, leaseExpiresAt: Double, payload: String) {
        self.jobID = jobID
        self.runID = runID
        self.name = name
        self.owner = owner
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.estimatedSeconds = estimatedSeconds
        self.leaseExpiresAt = leaseExpiresAt
        self.payload = payload
    }
}

/// One test of a claimed job, with the attempt its result is recorded under.
public struct JobTest: Sendable, Hashable {
    public var testID: TestID
    public var nodeid: String
    public var file: String
    public var attempt: Int
}

/// One recorded outcome.
public struct TestResult: Sendable, Equatable {
    public var testID: TestID
    public var attempt: Int
    public var outcome: Outcome
    public var duration: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    public var message: String?
    public var details: String?
    public var stdout: String?
    public var stderr: String?
    /// JSON object text: subtests, teardown errors; nil when there is nothing extra.
    public var extra: String?
    /// JSON array text of `[title, text]` pairs: the captured output shown with a failure.
    public var sections: String?
    /// The id of the pytest process that ran the attempt: with the worker, it names the
    /// process, so "what ran before this test in its process" can be answered later.
    public var process: Int32?

    public init(testID: TestID, attempt: Int, outcome: Outcome, duration: Double = 0,
                startedAt: Double? = nil, finishedAt: Double? = nil, message: String? = nil,
                details: String? = nil, stdout: String? = nil, stderr: String? = nil, extra: String? = nil,
                sections: String? = nil, process: Int32? = nil) {
        self.testID = testID
        self.attempt = attempt
        self.outcome = outcome
        self.duration = duration
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.message = message
        self.details = details
        self.stdout = stdout
        self.stderr = stderr
        self.extra = extra
        self.sections = sections
        self.process = process
    }
}

/// When a failed job may run again.
public struct RetryPolicy: Sendable, Equatable {
    /// Delay before the second attempt; doubles each attempt.
    public var baseDelay: Double
    /// Longest delay.
    public var maxDelay: Double

    public init(baseDelay: Double = 1, maxDelay: Double = 60) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Delay before attempt `attempt + 1`, with ±25 % jitter so that jobs failing
    /// together do not all come back at the same instant.
    public func delay(afterAttempt attempt: Int) -> Double {
        let exponential = baseDelay * pow(2, Double(max(0, attempt - 1)))
        return min(maxDelay, exponential) * Double.random(in: 0.75...1.25)
    }
}

/// Job counts of a run by state.
public struct JobCounts: Sendable, Equatable {
    public var byState: [JobState: Int]

    public init(byState: [JobState: Int] = [:]) { self.byState = byState }

    public subscript(state: JobState) -> Int { byState[state, default: 0] }
    public var total: Int { byState.values.reduce(0, +) }
    /// Jobs that still need a worker: queued or running.
    public var open: Int { self[.queued] + self[.running] }
}
