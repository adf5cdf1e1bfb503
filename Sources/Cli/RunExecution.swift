import ArgumentParser
import Foundation
import Pytest
import Queue
import Reports
import Worker

/// Runs the workers of a planned run to the end, settles its status, prints the
/// summary and returns pytest's exit code. Shared by `run`, `run --resume` and `rerun`.
struct RunExecution {
    var database: DatabaseOptions
    var python: PythonOptions
    var options: WorkerOptions
    var multiProcess: Bool
    /// Rounds of automatic retries of failing tests.
    var retries: Int = 0
    /// Flaky tests (failed, then passed on a retry) fail the run.
    var failOnFlaky = false
    /// Dead workers replaced before the run stops (`--max-worker-restart`; nil: 4 × workers).
    var maxWorkerRestarts: Int?

    /// `control` and `trap` may come from the caller, which then catches a Ctrl-C during planning too.
    /// With `planning`, the run was created empty: the workers start their pytest while
    /// `planning` collects and fills the run, so pytest's start-up overlaps planning.
    func execute(_ target: Run, queue: SQLiteQueue, workers requested: Int,
                 control given: WorkerControl? = nil, trap givenTrap: SignalTrap? = nil,
                 planning: (@Sendable () async throws -> Void)? = nil) async throws -> Int32 {
        let control = given ?? WorkerControl(grace: 3)
        let trap = givenTrap ?? SignalTrap { control.stop(.interrupted) }
        let configuration = try options.configuration(python: python.interpreter,
                                                      logDirectory: database.logDirectory(run: target.id))
        if planning == nil { try await queue.setStatus(.running, of: target.id) }
        var round = 0
        var failure: (any Error)?
        while true {
            let open = try await queue.counts(run: target.id).open
            let planningNow = round == 0 ? planning : nil
            let workers = planningNow == nil ? max(1, min(requested, open)) : requested
            let progress = ProgressPrinter(queue: queue, run: target.id, workers: workers)
            progress.start()
            let work: @Sendable () async throws -> Void = { [self] in
                let limit = maxWorkerRestarts ?? 4 * workers
                if multiProcess {
                    try await runProcesses(count: workers, run: target.id, queue: queue, control: control, limit: limit)
                } else {
                    try await WorkerPool.run(count: workers, queue: queue, run: target,
                                             configuration: configuration, control: control, maxRestarts: limit)
                }
            }
            do {
                if let planningNow {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await work() }
                        do {
                            try await planningNow()
                        } catch {
                            // Nothing to run after all: stop the waiting workers, leave no run behind.
                            control.stop(.interrupted)
                            try? await group.waitForAll()
                            try? await queue.deleteRun(target.id)
                            await progress.stop()
                            throw PlanningFailure(error: error)
                        }
                        try await group.waitForAll()
                    }
                } else {
                    try await work()
                }
            } catch let planningFailure as PlanningFailure {
                throw planningFailure.error
            } catch {
                failure = error
            }
            await progress.stop()
            guard failure == nil, !control.isStopping, round < retries else { break }
            round += 1
            let retried = try await queue.retryFailures(run: target.id)
            if retried == 0 { break }
            Console.print("retry \(round) of \(retries): \(retried) failing tests run again")
        }
        // The closing writes try briefly: after a lock timeout the lock is likely still held,
        // and the next arun to open the run settles what is left.
        let open = (try? await queue.counts(run: target.id).open) ?? 1
        let current = try await queue.run(target.id)
        try? await LockPatience.$seconds.withValue(failure == nil ? nil : 2) {
            if current.status == .cancelled || control.stopReason == .failFast {
                try await queue.markNotRun(run: target.id)
            } else if open == 0 {
                // Every job finished: complete, whatever stopped the workers afterwards.
                try await queue.setStatus(.complete, of: target.id)
            } else if trap.interrupted || control.stopReason == .interrupted || failure != nil {
                try await queue.setStatus(.interrupted, of: target.id)
            }
        }
        if let failure {
            let (message, code) = Failure.describe(failure)
            // Stops that leave a resumable run (lock timeout, a full, read-only or vanished
            // database, too many dead workers, a worker process that stopped on its own) end
            // with the summary, exit 2; others throw.
            let storage = (failure as? QueueError)?.isStorageFault == true
            guard code == 2 || storage else { throw failure }
            if let message { FileHandle.standardError.write(Data("arun: \(message)\n".utf8)) }
        }
        let interrupted = open > 0 && (trap.interrupted || control.stopReason == .interrupted || failure != nil)
        let summary = try RunSummary.load(run: target.id, from: queue)
        printFailures(queue: queue, run: target.id)
        Console.print("run \(target.id): \(summary.line)")
        if interrupted || summary.pending > 0 || open > 0 {
            let files = uncollectedFiles(queue: queue, run: target.id)
            let rest = [summary.pending > 0 ? "\(summary.pending) tests pending" : nil,
                        files > 0 ? "\(files) test files not collected yet" : nil].compactMap { $0 }
            Console.print("unfinished\(rest.isEmpty ? "" : " (\(rest.joined(separator: ", ")))"): "
                          + "finish it with `arun run --resume \(target.id)`")
        }
        let collectionErrorsFail = !target.pytestArgs.contains("--continue-on-collection-errors")
        let code = summary.exitCode(interrupted: interrupted, collectionErrorsFail: collectionErrorsFail,
                                    failOnFlaky: failOnFlaky)
        // Jobs still open (every worker died or stopped) leave the run unfinished.
        if code == 0, open > 0 { return 2 }
        return code
    }

    /// Files of jobs nobody has collected yet: their tests are unknown, so "pending" cannot count them.
    func uncollectedFiles(queue: SQLiteQueue, run: RunID) -> Int {
        let payloads = (try? queue.uncollectedPayloads(run: run)) ?? []
        return payloads.reduce(0) { $0 + (JobPayload.decode($1).files?.count ?? 0) }
    }

    /// Carries a planning error past the workers' own error handling.
    struct PlanningFailure: Error {
        var error: any Error
    }

    /// `--mp`: N `arun work` processes on the same database, supervised. A child that
    /// dies by a signal is replaced at once and its job taken back (its pid and start time
    /// identify its workers), up to `limit` replacements; past that the run stops (exit 2).
    /// Children die with this process (`--supervisor`), however it ends.
    func runProcesses(count: Int, run: RunID, queue: SQLiteQueue, control: WorkerControl, limit: Int) async throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var arguments = ["work", "--db", database.path, "--run", String(run), "--supervisor", String(getpid()),
                         "--lock-timeout", String(database.lockTimeout)] + options.forwarded
        if let python = python.python { arguments += ["--python", python] }
        let spawn = { [arguments] () throws -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            try process.run()
            return process
        }
        var slots: [Process?] = try (0..<count).map { _ in try spawn() }
        var deaths = 0
        var forwarded = false
        var failure: (any Error)?
        while slots.contains(where: { $0 != nil }) {
            if control.isStopping && !forwarded {
                // A terminal's Ctrl-C reaches only this process: each child has its own group.
                forwarded = true
                for case let child? in slots where child.isRunning { kill(child.processIdentifier, SIGTERM) }
            }
            for index in slots.indices {
                guard let child = slots[index], !child.isRunning else { continue }
                slots[index] = nil
                let pid = child.processIdentifier
                guard child.terminationReason == .uncaughtSignal else {
                    switch child.terminationStatus {
                    case 0: break  // the run is drained
                    case 2:
                        // It stopped on its own (lock timeout, full disk) and said why: all stop.
                        if !control.isStopping { failure = failure ?? ExitCode(2) }
                        control.stop(.interrupted)
                    case let status:
                        failure = failure ?? ExitCode(status == 4 ? 4 : 3)
                        control.stop(.interrupted)
                    }
                    continue
                }
                _ = try? await WorkerRecovery.recover(queue, settle: false)
                if control.isStopping { continue }
                deaths += 1
                let signal = child.terminationStatus
                let what = "worker process \(pid) was killed by signal \(signal)\(Worker.signalName(signal).map { " (\($0))" } ?? "")"
                if deaths > limit {
                    failure = WorkerError.restartLimit(deaths: deaths, limit: limit, last: what)
                    control.stop(.interrupted)
                    continue
                }
                let replacement = try spawn()
                slots[index] = replacement
                FileHandle.standardError.write(Data(
                    "arun: \(what): its job went back to the queue; worker process \(replacement.processIdentifier) replaces it (restart \(deaths) of \(limit), --max-worker-restart)\n".utf8))
            }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        if let failure { throw failure }
    }

    func printFailures(queue: SQLiteQueue, run: RunID) {
        let failures = (try? FailureLine.load(run: run, since: 0, from: queue, limit: 30)) ?? []
        guard !failures.isEmpty else { return }
        Console.print("failures:")
        for failure in failures {
            Console.print("  \(failure.outcome.rawValue.uppercased()) \(failure.nodeid)"
                          + (failure.message.map { " - \($0.prefix(200))" } ?? ""))
        }
    }
}
