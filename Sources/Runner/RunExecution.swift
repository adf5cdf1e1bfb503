import Foundation
import Pytest
import Queue
import Reports
import Worker

/// A run's life after planning: start the workers, retry failing tests in rounds,
/// settle the run's status and choose pytest's exit code. Shared by `run`,
/// `run --resume` and `rerun`; the caller prints what it reports.
public struct RunExecution: Sendable {
    /// How the workers are hosted: tasks of this process, or `arun work` processes.
    public var hosting: WorkerHosting
    /// Rounds of automatic retries of failing tests.
    public var retries: Int
    /// Flaky tests (failed, then passed on a retry) fail the run.
    public var failOnFlaky: Bool
    /// Dead workers replaced before the run stops (`--max-worker-restart`; nil: 4 × workers).
    public var maxWorkerRestarts: Int?
    /// The run's pytest arguments decide whether collection errors fail it.
    public var observer: any RunObserver
    /// Most jobs the plan can make, when known before planning (paths that are all files).
    public var jobsAtMost = Int.max
    /// When the invocation began: its time (planning and pytest start-up included) is
    /// added to the run's, so a resume or rerun does not count the idle gap before it.
    public var startedAt: Date

    public init(hosting: WorkerHosting, retries: Int = 0, failOnFlaky: Bool = false, maxWorkerRestarts: Int? = nil,
                observer: any RunObserver, startedAt: Date = Date()) {
        self.hosting = hosting
        self.retries = retries
        self.failOnFlaky = failOnFlaky
        self.maxWorkerRestarts = maxWorkerRestarts
        self.observer = observer
        self.startedAt = startedAt
    }

    /// Runs `target` to its end. `interrupted` reports a stop signal the caller caught.
    /// With `planning`, the run was created empty: the workers start their pytest while
    /// `planning` collects and fills the run, so pytest's start-up overlaps planning.
    public func execute(_ target: Run, queue: any RunStore, workers requested: Int, control: WorkerControl,
                        interrupted signalled: @escaping @Sendable () -> Bool = { false },
                        planning: (@Sendable () async throws -> Int)? = nil) async throws -> RunEnding {
        if planning == nil { try await queue.setStatus(.running, of: target.id) }
        var round = 0
        var failure: (any Error)?
        while true {
            let open = try await queue.counts(run: target.id).open
            let planningNow = round == 0 ? planning : nil
            // Never more workers than claimable jobs. While planning the count is unknown:
            // up to a CPU's worth start early (their pytest start-up overlaps planning),
            // the rest once the jobs are written; --mp processes start then.
            let cpus = max(1, ProcessInfo.processInfo.activeProcessorCount)
            let early = if case .processes = hosting { 0 } else { min(requested, cpus, jobsAtMost) }
            let workers = planningNow == nil ? max(1, min(requested, open)) : early
            await observer.roundStarted(run: target.id, workers: workers)
            let work: @Sendable (Int, Int) async throws -> Void = { [hosting, maxWorkerRestarts] workers, firstIndex in
                // Workers started together may be replaced 4 × their number times (xdist's default).
                let limit = maxWorkerRestarts ?? 4 * workers
                switch hosting {
                case .processes(let processes):
                    try await processes.run(count: workers, queue: queue, control: control, limit: limit)
                case .tasks(let configuration):
                    try await WorkerPool.run(count: workers, queue: queue, run: target,
                                             configuration: configuration, control: control,
                                             firstIndex: firstIndex, maxRestarts: limit)
                }
            }
            do {
                if let planningNow {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        if early > 0 { group.addTask { try await work(early, 0) } }
                        do {
                            let jobs = try await planningNow()
                            let wanted = max(1, min(requested, jobs))
                            control.limitWorkers(to: wanted)
                            if wanted > early { group.addTask { try await work(wanted - early, early) } }
                        } catch {
                            // Nothing to run after all: stop the waiting workers, leave no run behind.
                            control.stop(.interrupted)
                            try? await group.waitForAll()
                            try? await queue.deleteRun(target.id)
                            await observer.roundEnded()
                            // Ctrl-C reached the planner's pytest too: an interruption, not its error.
                            throw PlanningFailure(error: signalled() ? RunnerError.interruptedWhilePlanning : error)
                        }
                        try await group.waitForAll()
                    }
                } else {
                    try await work(workers, 0)
                }
            } catch let planningFailure as PlanningFailure {
                throw planningFailure.error
            } catch {
                failure = error
            }
            await observer.roundEnded()
            guard failure == nil, !control.isStopping, round < retries else { break }
            round += 1
            let retried = try await queue.retryFailures(run: target.id)
            if retried == 0 { break }
            // The last job of the round completed the run; it runs again.
            try await queue.setStatus(.running, of: target.id)
            observer.retrying(round: round, of: retries, tests: retried)
        }
        // The closing writes try briefly: after a lock timeout the lock is likely still held,
        // and the next arun to open the run settles what is left.
        let open = (try? await queue.counts(run: target.id).open) ?? 1
        let current = try await queue.run(target.id)
        let stopping = signalled() || control.stopReason == .interrupted || failure != nil
        try? await LockPatience.$seconds.withValue(failure == nil ? nil : 2) {
            if current.status == .cancelled || control.stopReason == .failFast {
                try await queue.markNotRun(run: target.id)
            } else if open == 0 {
                // Every job finished: complete, whatever stopped the workers afterwards.
                try await queue.setStatus(.complete, of: target.id)
            } else if stopping {
                try await queue.setStatus(.interrupted, of: target.id)
            }
        }
        try? await queue.addActiveSeconds(Date().timeIntervalSince(startedAt), to: target.id)
        // Stops that leave a resumable run (lock timeout, a full, read-only or vanished
        // database, too many dead workers, a worker process that stopped on its own) end
        // with the summary, exit 2; others throw.
        if let failure, !Self.isResumableStop(failure) { throw await inSerialTerms(failure, run: target) }
        let interrupted = open > 0 && stopping
        let summary = try await RunSummary.load(run: target.id, from: queue)
        let failures = (try? await queue.failures(run: target.id, since: 0, limit: 30)) ?? []
        let collectionErrorsFail = !target.pytestArgs.contains("--continue-on-collection-errors")
        var code = summary.exitCode(interrupted: interrupted, collectionErrorsFail: collectionErrorsFail,
                                    failOnFlaky: failOnFlaky)
        // Jobs still open (every worker died or stopped) leave the run unfinished.
        if code == 0, open > 0 { code = 2 }
        // Files of open jobs nobody has collected yet: their tests are unknown, so "pending" cannot count them.
        let payloads = (try? (queue as? SQLiteQueue)?.uncollectedPayloads(run: target.id)) ?? []
        let uncollected = payloads.reduce(0) { $0 + (JobPayload.decode($1).files?.count ?? 0) }
        return RunEnding(summary: summary, failures: failures, interrupted: interrupted || open > 0, exitCode: code,
                         unrunFiles: await Self.unrunFiles(queue: queue, run: target.id), stop: failure,
                         uncollectedFiles: uncollected)
    }

    /// A worker's pytest refused the suite at the first item of its own job; serial pytest
    /// meets another item first. Its own `INTERNALERROR` line is the one a pytest user
    /// expects, so pytest is asked (``SerialVerdict``); the worker's stays when pytest
    /// does not refuse the same way.
    func inSerialTerms(_ failure: any Error, run: Run) async -> any Error {
        guard case let .pytestRefused(status, _, log)? = failure as? WorkerError,
              case let .tasks(configuration) = hosting,
              let verdict = await SerialVerdict.ask(python: configuration.python, directory: run.directory,
                                                    paths: run.paths, pytestArgs: run.pytestArgs),
              verdict.status == status else { return failure }
        return WorkerError.pytestRefused(status: status, message: verdict.internalError.joined(separator: "\n"), log: log)
    }

    /// Files of jobs a stop (-x/--maxfail) cancelled before any worker collected them:
    /// their tests are unknown, so the summary counts files.
    static func unrunFiles(queue: any RunStore, run: RunID) async -> Int {
        ((try? await queue.unrunPayloads(run: run)) ?? []).reduce(0) { $0 + (JobPayload.decode($1).files?.count ?? 0) }
    }

    static func isResumableStop(_ error: any Error) -> Bool {
        switch error {
        case let error as QueueError: error.isStorageFault
        case let error as WorkerError: error.exitCode == 2
        case let error as RunnerError: error.exitCode == 2
        default: false
        }
    }

    /// Carries a planning error past the workers' own error handling.
    struct PlanningFailure: Error {
        var error: any Error
    }
}

/// How a run ended: what the caller prints, and pytest's exit code.
public struct RunEnding: Sendable {
    public var summary: RunSummary
    /// The first failing tests, in the order they finished.
    public var failures: [FailureLine]
    /// A stop signal ended the run early.
    public var interrupted: Bool
    public var exitCode: Int32
    /// Test files that did not run and whose tests are unknown (see ``RunExecution``).
    public var unrunFiles: Int = 0
    /// The fault that stopped the run resumably (lock timeout, full disk, too many dead
    /// workers), for the caller to name; nil when it ran to its end or was signalled.
    public var stop: (any Error)?
    /// Test files of open jobs nobody has collected yet (their tests are not counted as pending).
    public var uncollectedFiles: Int = 0

    /// Tests are left to run: `arun run --resume` finishes them.
    public var unfinished: Bool { interrupted || summary.pending > 0 }
}

/// Where a run's workers live.
public enum WorkerHosting: Sendable {
    /// Worker tasks of this process (`--mt`).
    case tasks(WorkerConfiguration)
    /// `arun work` child processes (`--mp`).
    case processes(WorkerProcesses)
}

/// What a run's life tells its caller as it goes (the CLI shows progress from it).
public protocol RunObserver: Sendable {
    /// A round of workers starts.
    func roundStarted(run: RunID, workers: Int) async
    /// The round's workers have all stopped.
    func roundEnded() async
    /// Failing tests were queued again for retry round `round` of `of`.
    func retrying(round: Int, of: Int, tests: Int)
}
