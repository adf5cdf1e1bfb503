import Foundation
import Pytest
import Queue

/// Turns a ``PlanRequest`` into a ``Plan``: collect with pytest, group by the mode,
/// shard for this machine, size jobs, and write them as one run.
public struct Planner: Sendable {
    public init() {}

    /// Collects the suite and plans it.
    public func plan(_ request: PlanRequest) async throws -> Plan {
        let (collection, context) = try await collect(request)
        return try plan(request, collection: collection, context: context)
    }

    /// What collection decided that planning needs: the paths pytest was given and the strategy groups.
    public struct Context: Sendable {
        public var collectPaths: [String]
        var expressions: [String]
        var strategyGroups: [MarkGroup]
        /// Jobs name whole files: the planner listed them without collecting their tests.
        var fileLevel: Bool
    }

    /// Validates the request and runs pytest's collection for it.
    public func collect(_ request: PlanRequest) async throws -> (Collection, Context) {
        let context = try prepare(request)
        let invocation = PytestInvocation(python: request.python, directory: request.directory,
                                          paths: context.collectPaths, pytestArgs: request.pytestArgs)
        let collector = Collector(invocation: invocation)
        let collection = context.fileLevel
            ? try await collector.discoverFiles() : try await collector.collect(expressions: context.expressions)
        return (collection, context)
    }

    /// Checks everything that can be checked without pytest (paths, folders, shard, strategy
    /// file) and decides how the suite will be collected: usage errors come before any work.
    public func prepare(_ request: PlanRequest) throws -> Context {
        guard request.workers >= 1 else { throw PlanError.invalidWorkerCount(request.workers) }
        if let shard = request.shard {
            guard shard.count >= 1 else { throw PlanError.invalidShardCount(shard.count) }
            guard (0..<shard.count).contains(shard.index) else {
                throw PlanError.invalidShardIndex(index: shard.index, count: shard.count)
            }
        }
        for path in request.paths where !FileManager.default.fileExists(atPath: absolute(path, in: request.directory)) {
            // A node id (file.py::test) is fine when its file exists.
            let file = path.components(separatedBy: "::")[0]
            if !FileManager.default.fileExists(atPath: absolute(file, in: request.directory)) {
                throw PlanError.unknownPath(path)
            }
        }
        var expressions: [String] = []
        var collectPaths = request.paths
        var strategyGroups: [MarkGroup] = []
        switch request.mode {
        case .automatic:
            break
        case let .marks(list):
            expressions = list
        case let .files(directory), let .suites(directory):
            let flag = request.mode == .files(directory: directory) ? "--dist-file" : "--dist-suite"
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: absolute(directory, in: request.directory), isDirectory: &isDirectory),
                  isDirectory.boolValue else { throw PlanError.notADirectory(flag: flag, path: directory) }
            if collectPaths.isEmpty { collectPaths = [directory] }
        case let .strategy(file):
            let strategy = try Strategy.load(contentsOf: URL(fileURLWithPath: absolute(file, in: request.directory)),
                                             source: file)
            strategyGroups = strategy.groups
            expressions = strategy.expressions
        }

        // Splits that need no test's marks plan whole files: pytest lists them without
        // importing, and each is collected once, by the worker that runs it. Node ids
        // given as paths need the tests themselves.
        let fileLevel = expressions.isEmpty && strategyGroups.isEmpty && !request.paths.contains { $0.contains("::") }
        return Context(collectPaths: collectPaths, expressions: expressions, strategyGroups: strategyGroups,
                       fileLevel: fileLevel)
    }

    /// Plans an already collected suite: grouping, static sharding, job sizing.
    public func plan(_ request: PlanRequest, collection: Collection, context: Context) throws -> Plan {
        let (collectPaths, expressions, strategyGroups) = (context.collectPaths, context.expressions, context.strategyGroups)
        let problems = collection.errors
        if context.fileLevel {
            return try FilePlanner(request: request, collection: collection, problems: problems,
                                   collectPaths: collectPaths).plan()
        }
        if collection.tests.isEmpty && problems.isEmpty {
            switch request.mode {
            case let .files(directory): throw PlanError.emptyDirectory(flag: "--dist-file", path: directory)
            case let .suites(directory): throw PlanError.emptyDirectory(flag: "--dist-suite", path: directory)
            default: throw PlanError.noTests(paths: collectPaths)
            }
        }

        var warnings: [String] = []
        var unmatched = 0
        var duplicates = 0
        var groups: [TestGroup]
        switch request.mode {
        case .automatic:
            groups = []
        case .marks, .strategy:
            let grouping = Grouping.group(collection.tests, by: .marks(expressions))
            groups = grouping.groups
            if !strategyGroups.isEmpty {
                // Strategy groups are named after their marks, as aomaker names its workers.
                let names = Dictionary(strategyGroups.map { ($0.expression, $0.name) }, uniquingKeysWith: { a, _ in a })
                groups = groups.map { TestGroup(name: names[$0.name] ?? $0.name, tests: $0.tests) }
            }
            (warnings, unmatched, duplicates) = (grouping.warnings, grouping.unmatched.count, grouping.duplicates.count)
        case let .files(directory), let .suites(directory):
            let relative = relativePath(absolute(directory, in: request.directory), to: collection.rootdir)
            let mode: GroupingMode = request.mode == .files(directory: directory)
                ? .files(directory: relative) : .suites(directory: relative)
            let grouping = Grouping.group(collection.tests, by: mode)
            groups = grouping.groups
            (warnings, unmatched, duplicates) = (grouping.warnings, grouping.unmatched.count, grouping.duplicates.count)
        }

        let balancer = try Balancer(workers: request.workers)
        var jobs: [(group: TestGroup, seconds: Double)]
        if request.mode == .automatic {
            var tests = collection.tests
            if let shard = request.shard {
                // Files are the unit across machines: the slice depends only on the tests and the durations file.
                let files = Grouping.byFile(tests)
                let weighted = WeightedGroup.weighing(files, durations: request.durationsFile)
                tests = try Sharding.shard(groups: weighted, count: shard.count, index: shard.index).flatMap(\.group.tests)
            }
            let plan = balancer.plan(tests, durations: request.history)
            jobs = plan.jobs.map { ($0.group, $0.estimatedSeconds) }
        } else {
            if let shard = request.shard {
                let weighted = WeightedGroup.weighing(groups, durations: request.durationsFile)
                groups = try Sharding.shard(groups: weighted, count: shard.count, index: shard.index).map(\.group)
            }
            let weighted = WeightedGroup.weighing(groups, durations: request.history)
            jobs = weighted.map { ($0.group, $0.weight + balancer.startupSeconds) }
        }

        // pytest runs nothing after a collection error (unless told to go on): nor does the run.
        if !problems.isEmpty && !request.pytestArgs.contains("--continue-on-collection-errors") { jobs = [] }
        let newJobs = jobs.map { job in
            NewJob(name: job.group.name, estimatedSeconds: job.seconds,
                   tests: job.group.tests.map { NewTest(nodeid: $0.nodeid, file: $0.file, marks: $0.marks) })
        }
        return Plan(
            jobs: newJobs,
            groups: jobs.map { Plan.GroupSummary(name: $0.group.name, tests: $0.group.tests.count) },
            tests: newJobs.reduce(0) { $0 + $1.tests.count },
            unmatched: unmatched, duplicates: duplicates, warnings: warnings, collectionErrors: problems,
            workerSeconds: Self.schedule(jobs.map(\.seconds), workers: request.workers),
            collectPaths: collectPaths, rootdir: collection.rootdir)
    }

    /// A plan of whole files with `tests` counted by collecting its files: what
    /// `--dry-run` shows (a real run learns the tests as its workers collect them).
    public func countingTests(of plan: Plan, request: PlanRequest) async throws -> Plan {
        guard plan.files != nil else { return plan }
        let invocation = PytestInvocation(python: request.python, directory: request.directory,
                                          paths: plan.collectPaths, pytestArgs: request.pytestArgs)
        let collection = try await Collector(invocation: invocation).collect()
        let planned = Set(plan.fileList)
        var counted = plan
        counted.tests = collection.tests.filter { planned.contains($0.file) }.count
        counted.testsSource = .collection
        return counted
    }

    /// Writes the plan as a new run. A failure half-way deletes the run: no half-written runs.
    public func enqueue(_ plan: Plan, request: PlanRequest, name: String?, settings: RunSettings,
                        into queue: any JobQueue) async throws -> Run {
        let run = try await queue.createRun(NewRun(
            name: name, directory: request.directory, paths: plan.collectPaths, pytestArgs: request.pytestArgs,
            settings: settings, collectionErrors: plan.collectionErrors))
        do {
            try await queue.enqueue(plan.jobs, into: run.id)
        } catch {
            try? await queue.deleteRun(run.id)
            throw error
        }
        return run
    }

    /// Writes the plan's jobs into a run created before planning (whose workers may
    /// already be waiting). A failure half-way deletes the run.
    public func fill(_ run: Run, with plan: Plan, into queue: any JobQueue) async throws {
        do {
            try await queue.addCollectionErrors(plan.collectionErrors, run: run.id)
            try await queue.enqueue(plan.jobs, into: run.id)
            try await queue.setStatus(.running, of: run.id)
        } catch {
            try? await queue.deleteRun(run.id)
            throw error
        }
    }

    /// Longest job first onto the least-loaded worker: what the queue's claim order does.
    static func schedule(_ seconds: [Double], workers: Int) -> [Double] {
        var loads = Array(repeating: 0.0, count: max(1, workers))
        for job in seconds.sorted(by: >) {
            let index = loads.indices.min { loads[$0] < loads[$1] } ?? 0
            loads[index] += job
        }
        return loads
    }

    func absolute(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: directory).appending(path: path).standardizedFileURL.path
    }

    /// `path` relative to `base`, '/'-separated; "" when equal.
    func relativePath(_ path: String, to base: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().pathComponents
        let root = URL(fileURLWithPath: base).standardizedFileURL.resolvingSymlinksInPath().pathComponents
        guard target.starts(with: root) else { return path }
        return target.dropFirst(root.count).joined(separator: "/")
    }
}
