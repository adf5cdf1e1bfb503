import Foundation

/// One attempt with the pytest process that ran it (``RunReader/processedAttempts(run:)``).
public struct ProcessedAttempt: Sendable, Equatable {
    public var nodeid: String
    public var file: String
    public var attempt: Int
    public var outcome: Outcome
    public var worker: String?
    /// The pytest process id (nil for results recorded before schema version 5).
    public var process: Int32?
    public var startedAt: Double?
    public var finishedAt: Double?

    public init(nodeid: String, file: String, attempt: Int, outcome: Outcome, worker: String?, process: Int32?,
                startedAt: Double?, finishedAt: Double?) {
        self.nodeid = nodeid
        self.file = file
        self.attempt = attempt
        self.outcome = outcome
        self.worker = worker
        self.process = process
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// Where a test's final attempt ran: its outcome, and what its pytest process ran before it.
public struct ProcessPlace: Sendable, Equatable {
    public var run: RunID
    public var attempt: Int
    public var outcome: Outcome
    public var worker: String?
    /// Attempts its process started before it (0: first in its process).
    public var testsBefore: Int
    /// The files of those attempts, each once, in the order they first ran.
    public var filesBefore: [String]
    /// The test its process ran just before it.
    public var previous: String?
    /// The node ids its process ran before it, in order, as one hash: equal in two runs
    /// when the test had the same history (comparable within one arun process only).
    var history: Int
}

/// A test whose final outcome differs between two runs of the same plan.
public struct OrderDifference: Sendable, Equatable {
    public var nodeid: String
    /// The reported run's attempt, and the compared run's.
    public var current: ProcessPlace
    public var earlier: ProcessPlace

    /// Its process ran other tests before it in the two runs: order may explain the
    /// difference. False: the same tests ran before it in both, so it is flaky between runs.
    public var dependsOnOrder: Bool { current.history != earlier.history }
}

/// A run compared with an earlier run of the same plan.
public struct OrderComparison: Sendable, Equatable {
    public var run: RunID
    public var comparedRun: RunID
    /// In node id order (byte order).
    public var differences: [OrderDifference]

    public var orderDependent: [OrderDifference] { differences.filter(\.dependsOnOrder) }
    public var flakyBetweenRuns: [OrderDifference] { differences.filter { !$0.dependsOnOrder } }

    /// Tests present in both runs whose final outcomes differ; a test not run in either
    /// (`not_run`, or no result) is left out: it says nothing about order.
    public static func make(run: RunID, attempts: [ProcessedAttempt], comparedRun: RunID,
                            comparedAttempts: [ProcessedAttempt]) -> OrderComparison {
        let mine = finals(attempts)
        let theirs = finals(comparedAttempts)
        var differing = Set<String>()
        for (nodeid, final) in mine {
            guard let other = theirs[nodeid], final.outcome != other.outcome,
                  final.outcome != .notRun, other.outcome != .notRun else { continue }
            differing.insert(nodeid)
        }
        guard !differing.isEmpty else { return OrderComparison(run: run, comparedRun: comparedRun, differences: []) }
        let current = places(of: differing, finals: mine, attempts: attempts, run: run)
        let earlier = places(of: differing, finals: theirs, attempts: comparedAttempts, run: comparedRun)
        let differences = differing.sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }.compactMap { nodeid in
            current[nodeid].flatMap { place in earlier[nodeid].map { OrderDifference(nodeid: nodeid, current: place, earlier: $0) } }
        }
        return OrderComparison(run: run, comparedRun: comparedRun, differences: differences)
    }

    /// Each test's final (highest) attempt.
    static func finals(_ attempts: [ProcessedAttempt]) -> [String: (attempt: Int, outcome: Outcome)] {
        var finals: [String: (attempt: Int, outcome: Outcome)] = [:]
        for attempt in attempts where (finals[attempt.nodeid]?.attempt ?? 0) < attempt.attempt {
            finals[attempt.nodeid] = (attempt.attempt, attempt.outcome)
        }
        return finals
    }

    /// Walks every process's attempts in the order it ran them, noting what came before
    /// the final attempts of `nodeids`.
    static func places(of nodeids: Set<String>, finals: [String: (attempt: Int, outcome: Outcome)],
                       attempts: [ProcessedAttempt], run: RunID) -> [String: ProcessPlace] {
        struct Key: Hashable {
            var worker: String?
            var process: Int32?
        }
        var processes: [Key: [ProcessedAttempt]] = [:]
        for attempt in attempts { processes[Key(worker: attempt.worker, process: attempt.process), default: []].append(attempt) }
        var places: [String: ProcessPlace] = [:]
        for (_, ran) in processes {
            // Start time; attempts that never started (synthetic) at their end.
            let ordered = ran.sorted {
                let left = $0.startedAt ?? $0.finishedAt ?? 0, right = $1.startedAt ?? $1.finishedAt ?? 0
                return left != right ? left < right : ($0.nodeid, $0.attempt) < ($1.nodeid, $1.attempt)
            }
            var hasher = Hasher()
            var ranBefore = 0
            var previous: String?
            var files: [String] = []
            var seen = Set<String>()
            for attempt in ordered {
                if nodeids.contains(attempt.nodeid), finals[attempt.nodeid]?.attempt == attempt.attempt {
                    places[attempt.nodeid] = ProcessPlace(
                        run: run, attempt: attempt.attempt, outcome: attempt.outcome, worker: attempt.worker,
                        testsBefore: ranBefore, filesBefore: files, previous: previous,
                        history: { let snapshot = hasher; return snapshot.finalize() }())
                }
                // Results written for tests that never started (not run, not found) ran nothing.
                guard attempt.startedAt != nil else { continue }
                hasher.combine(attempt.nodeid)
                ranBefore += 1
                previous = attempt.nodeid
                if seen.insert(attempt.file).inserted { files.append(attempt.file) }
            }
        }
        return places
    }
}

extension RunReader {
    /// The run compared with `earlier`, or with the latest earlier run of the same plan
    /// (``samePlanRun(before:)``); nil when there is none.
    public func orderComparison(run: RunID, comparedWith earlier: RunID? = nil) async throws -> OrderComparison? {
        var compared = earlier
        if compared == nil { compared = try await samePlanRun(before: run) }
        guard let compared, compared != run else { return nil }
        return OrderComparison.make(run: run, attempts: try await processedAttempts(run: run), comparedRun: compared,
                                    comparedAttempts: try await processedAttempts(run: compared))
    }
}
