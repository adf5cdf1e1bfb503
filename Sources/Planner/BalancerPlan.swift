/// One job chosen by the balancer: a group of tests run as one pytest session.
public struct BalancedJob: Sendable, Hashable, Codable {
    /// The tests and the job's name (a file, `file [2/3]`, or `file +4 files`).
    public var group: TestGroup
    /// Estimated wall time including the pytest startup cost.
    public var estimatedSeconds: Double

    public init(group: TestGroup, estimatedSeconds: Double) {
        self.group = group
        self.estimatedSeconds = estimatedSeconds
    }
}

/// The balancer's answer: jobs longest first, plus what it expects them to cost.
public struct BalancePlan: Sendable, Hashable {
    /// Jobs longest first (ties by name): enqueue in this order so the
    /// stragglers start early and the tail is made of short jobs.
    public var jobs: [BalancedJob]
    /// Estimated busy seconds of each worker, from simulating the workers
    /// taking jobs in `jobs` order, each onto the worker that frees up first.
    public var workerSeconds: [Double]
    /// The job length the balancer aimed for, excluding startup.
    public var targetJobSeconds: Double
    /// How many tests had a duration in history.
    public var knownTests: Int
    /// What each test without history was estimated at.
    public var fallbackTestSeconds: Double

    public init(jobs: [BalancedJob], workerSeconds: [Double], targetJobSeconds: Double,
                knownTests: Int, fallbackTestSeconds: Double) {
        self.jobs = jobs
        self.workerSeconds = workerSeconds
        self.targetJobSeconds = targetJobSeconds
        self.knownTests = knownTests
        self.fallbackTestSeconds = fallbackTestSeconds
    }

    /// The jobs' groups, longest first.
    public var groups: [TestGroup] { jobs.map(\.group) }

    /// Estimated wall time of the whole run: the busiest worker.
    public var estimatedWallSeconds: Double { workerSeconds.max() ?? 0 }
}
