/// Cuts a suite into jobs for N workers pulling from a queue (automatic mode).
///
/// The job size rule, with W the estimated suite time (startup excluded):
///
///     k = clamp(⌊W / (workers × minimumJobSeconds)⌋, 1...jobsPerWorker)
///     target T = W / (workers × k)
///
/// * Long suites get `jobsPerWorker` jobs per worker, so the tail is short.
/// * Medium suites get fewer jobs per worker, as many as keep every job at
///   least `minimumJobSeconds` long, so startup stays a small share. A whole
///   number of jobs per worker lets equal jobs finish together.
/// * Tiny suites get one job per worker: spreading still shortens the wall
///   time even when startup dominates, and more jobs than workers cannot.
///
/// Files are the unit (module fixtures run once per file per session). Files
/// up to T are packed with their neighbours in collection order (keeping
/// directories, hence package fixtures, together) into jobs of about T. Once
/// less than one job per worker of that work is left, targets may shrink to a
/// worker's share of the rest (not below half the minimum job length), so the
/// last jobs pulled are short and the workers finish together; this tail is
/// kept only if the simulated wall time says it helps. A file longer
/// than T runs alone; it is split only when it exceeds both 2T and the minimum
/// job length, into contiguous pieces of about T (never shorter than a quarter
/// of `minimumJobSeconds`).
public struct Balancer: Sendable, Hashable {
    /// Workers pulling jobs concurrently; at least 1.
    public let workers: Int
    /// Estimated cost of starting one pytest session (interpreter, imports, collection).
    public let startupSeconds: Double
    /// A job should carry at least this much work so startup stays a small share.
    public let minimumJobSeconds: Double
    /// How many jobs per worker to aim for on long suites.
    public let jobsPerWorker: Int
    /// The per-test estimate with no history at all.
    ///
    /// 0.1 s sits between unit tests (milliseconds) and API tests (seconds).
    /// Guessing high costs a few extra startups; guessing low packs a slow
    /// suite into one job per worker and a long tail, which is far worse.
    /// The first run records real durations, so the guess lasts one run.
    public let assumedTestSeconds: Double

    /// A file is "much longer" than a job when over this many targets.
    static let splitFactor = 2.0

    public init(workers: Int, startupSeconds: Double = 0.6, minimumJobSeconds: Double? = nil,
                jobsPerWorker: Int = 6, assumedTestSeconds: Double = 0.1) throws {
        guard workers >= 1 else { throw PlanError.invalidWorkerCount(workers) }
        guard startupSeconds.isFinite, startupSeconds >= 0 else {
            throw PlanError.invalidBalancerSetting(name: "startupSeconds", value: "\(startupSeconds)", expected: "a finite number of seconds ≥ 0")
        }
        let minimum = minimumJobSeconds ?? 20 * startupSeconds
        guard minimum.isFinite, minimum >= 0 else {
            throw PlanError.invalidBalancerSetting(name: "minimumJobSeconds", value: "\(minimum)", expected: "a finite number of seconds ≥ 0")
        }
        guard jobsPerWorker >= 1 else {
            throw PlanError.invalidBalancerSetting(name: "jobsPerWorker", value: "\(jobsPerWorker)", expected: "at least 1")
        }
        guard assumedTestSeconds.isFinite, assumedTestSeconds > 0 else {
            throw PlanError.invalidBalancerSetting(name: "assumedTestSeconds", value: "\(assumedTestSeconds)", expected: "a finite number of seconds > 0")
        }
        self.workers = workers
        self.startupSeconds = startupSeconds
        self.minimumJobSeconds = minimum
        self.jobsPerWorker = jobsPerWorker
        self.assumedTestSeconds = assumedTestSeconds
    }

    /// Plans jobs for `tests` (in collection order) given known `durations` by node id.
    public func plan(_ tests: [CollectedTest], durations: [String: Double] = [:]) -> BalancePlan {
        let costs = BalancerCostModel(tests: tests, durations: durations, assumedSeconds: assumedTestSeconds)
        let files = BalancerFile.files(of: tests, costs: costs)
        let total = files.reduce(0) { $0 + $1.seconds }
        let knownTests = tests.filter(costs.isKnown).count
        guard total > 0 else {
            return BalancePlan(jobs: [], workerSeconds: Array(repeating: 0, count: workers), targetJobSeconds: 0,
                               knownTests: knownTests, fallbackTestSeconds: costs.fallbackSeconds)
        }

        let target = targetJobSeconds(total: total)
        // With and without a shrinking tail: the tail evens out finish times when
        // job sizes are uneven, but only costs startups when they already are even.
        // The simulated wall time decides; on a tie, the plan without the tail.
        let candidates = [nil, minimumJobSeconds / 2].map { tailFloor in
            let packing = BalancerPacking(
                target: target,
                splitThreshold: max(Self.splitFactor * target, minimumJobSeconds),
                minimumPieceSeconds: minimumJobSeconds / 4,
                workers: workers,
                tailFloorSeconds: tailFloor)
            return schedule(packing.pack(files), costs: costs)
        }
        var best = candidates[0]
        for candidate in candidates.dropFirst() where candidate.wallSeconds < best.wallSeconds {
            best = candidate
        }
        return BalancePlan(jobs: best.jobs, workerSeconds: best.workerSeconds, targetJobSeconds: target,
                           knownTests: knownTests, fallbackTestSeconds: costs.fallbackSeconds)
    }

    /// Estimates `groups`, orders them longest first and simulates the workers.
    private func schedule(_ groups: [TestGroup], costs: BalancerCostModel)
        -> (jobs: [BalancedJob], workerSeconds: [Double], wallSeconds: Double) {
        let estimates = groups.map { group in
            startupSeconds + group.tests.reduce(0) { $0 + costs.seconds(for: $1) }
        }
        let names = groups.map(\.name)
        let order = LongestFirstSchedule.longestFirstOrder(weights: estimates, names: names)
        let jobs = order.map { BalancedJob(group: groups[$0], estimatedSeconds: estimates[$0]) }
        let loads = LongestFirstSchedule(weights: estimates, names: names, bins: workers).loads
        return (jobs, loads, loads.max() ?? 0)
    }

    /// The job length to aim for; see the type's documentation.
    func targetJobSeconds(total: Double) -> Double {
        let perWorker = total / Double(workers)
        // In Double until clamped: perWorker / 0 is +inf, which min() tames.
        let longEnough = (perWorker / minimumJobSeconds).rounded(.down)
        let jobsEach = max(1, min(Double(jobsPerWorker), longEnough.isNaN ? 1 : longEnough))
        return perWorker / jobsEach
    }
}
