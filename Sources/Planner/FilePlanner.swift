import Foundation
import Pytest
import Queue

/// Plans jobs of whole test files, from pytest's file list and the durations of
/// earlier runs, without collecting a single test: the automatic, `--dist-file` and
/// `--dist-suite` splits. Workers collect each file once, when they run it.
struct FilePlanner {
    var request: PlanRequest
    var collection: Collection
    var problems: [CollectionProblem]
    var collectPaths: [String]

    /// Cold estimate for a file never run here: its size, at 5 KB a second. Rough,
    /// but it ranks a 300-test file above a 3-test one, and one warm run replaces it.
    static let secondsPerByte = 1.0 / 5_000
    /// A job costs this much in a pytest process that is already running.
    static let jobOverhead = 0.05

    func plan() throws -> Plan {
        let files = collection.files
        if files.isEmpty && problems.isEmpty {
            switch request.mode {
            case let .files(directory): throw PlanError.emptyDirectory(flag: "--dist-file", path: directory)
            case let .suites(directory): throw PlanError.emptyDirectory(flag: "--dist-suite", path: directory)
            default: throw PlanError.noTests(paths: collectPaths)
            }
        }
        // A file stands in for its tests: grouping, sharding and balancing move files.
        let pseudoTests = files.map { CollectedTest(nodeid: $0, file: $0) }
        let history = Self.perFile(request.history)
        let estimates = estimates(for: files, history: history)
        var warnings: [String] = []
        var unmatched = 0
        var jobs: [(name: String, files: [String], seconds: Double)]

        switch request.mode {
        case let .files(directory), let .suites(directory):
            let relative = Planner().relativePath(Planner().absolute(directory, in: request.directory), to: collection.rootdir)
            let mode: GroupingMode = request.mode == .files(directory: directory)
                ? .files(directory: relative) : .suites(directory: relative)
            let grouping = Grouping.group(pseudoTests, by: mode)
            var groups = grouping.groups
            if let shard = request.shard {
                let weights = WeightedGroup.weighing(groups, durations: Self.perFile(request.durationsFile))
                groups = try Sharding.shard(groups: weights, count: shard.count, index: shard.index).map(\.group)
            }
            warnings = grouping.warnings.map { $0.replacingOccurrences(of: "tests", with: "test files") }
            unmatched = grouping.unmatched.count
            jobs = groups.map { group in
                let files = group.tests.map(\.file)
                return (group.name, files, files.reduce(Self.jobOverhead) { $0 + (estimates[$1] ?? 0) })
            }
        default:
            var chosen = pseudoTests
            if let shard = request.shard {
                // The slice depends only on the file list and the durations file: every machine agrees.
                let weighted = WeightedGroup.weighing(pseudoTests.map { TestGroup(name: $0.file, tests: [$0]) },
                                                      durations: Self.perFile(request.durationsFile))
                chosen = try Sharding.shard(groups: weighted, count: shard.count, index: shard.index).flatMap(\.group.tests)
            }
            // Without history the estimates are guesses: make the full number of jobs per
            // worker so claiming balances what the estimates cannot (a job costs ~50 ms).
            let known = chosen.filter { history[$0.file] != nil }.count
            let minimumJob = known * 2 >= chosen.count ? 1.0 : 0.001
            let balancer = try Balancer(workers: request.workers, startupSeconds: Self.jobOverhead,
                                        minimumJobSeconds: minimumJob,
                                        jobsPerWorker: Self.jobsPerWorker(files: chosen.count, workers: request.workers))
            jobs = balancer.plan(chosen, durations: estimates).jobs.map { job in
                (job.group.name, job.group.tests.map(\.file), job.estimatedSeconds)
            }
        }

        let planned = Set(jobs.flatMap(\.files))
        var testsPerFile: [String: Int] = [:]
        for nodeid in request.history.keys { testsPerFile[Self.file(of: nodeid), default: 0] += 1 }
        let knownTests = planned.reduce(0) { $0 + (testsPerFile[$1] ?? 0) }
        let newJobs = jobs.map { job in
            NewJob(name: job.name, estimatedSeconds: job.seconds,
                   payload: JobPayload(files: job.files, known: job.files.map { testsPerFile[$0] }).encoded)
        }
        return Plan(
            jobs: newJobs,
            groups: jobs.map { Plan.GroupSummary(name: $0.name, tests: $0.files.count) },
            tests: knownTests, unmatched: unmatched, duplicates: 0, warnings: warnings, collectionErrors: problems,
            workerSeconds: Planner.schedule(jobs.map(\.seconds), workers: request.workers),
            collectPaths: collectPaths, rootdir: collection.rootdir,
            files: planned.count)
    }

    /// Jobs grow with the suite up to about `filesPerJob` files, then their number
    /// grows instead: a job collects its files before its first test runs, so a
    /// 200k-test suite in 16 jobs waited 15–38 s per job for its first result, and
    /// its last jobs made a long tail. Small suites keep 8 jobs per worker.
    static func jobsPerWorker(files: Int, workers: Int) -> Int {
        min(64, max(8, files / (max(1, workers) * filesPerJob)))
    }

    static let filesPerJob = 25

    /// Seconds per file: its tests' recorded durations, else its size.
    func estimates(for files: [String], history: [String: Double]) -> [String: Double] {
        var estimates: [String: Double] = [:]
        for file in files {
            if let known = history[file] {
                estimates[file] = known
            } else {
                let path = URL(fileURLWithPath: collection.rootdir).appending(path: file).path
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 1_000
                estimates[file] = max(0.01, size * Self.secondsPerByte)
            }
        }
        return estimates
    }

    /// Per-test seconds summed per file.
    static func perFile(_ durations: [String: Double]) -> [String: Double] {
        var sums: [String: Double] = [:]
        for (nodeid, seconds) in durations where seconds.isFinite && seconds >= 0 {
            sums[file(of: nodeid), default: 0] += seconds
        }
        return sums
    }

    static func file(of nodeid: String) -> String {
        nodeid.range(of: "::").map { String(nodeid[..<$0.lowerBound]) } ?? nodeid
    }
}
