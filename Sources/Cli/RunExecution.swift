import ArgumentParser
import Foundation
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
    /// Most jobs the plan can make, when known before planning (paths that are all files).
    var jobsAtMost = Int.max

    /// `control` and `trap` may come from the caller, which then catches a Ctrl-C during planning too.
    /// With `planning`, the run was created empty: the workers start their pytest while
    /// `planning` collects and fills the run, so pytest's start-up overlaps planning.
    func execute(_ target: Run, queue: SQLiteQueue, workers requested: Int,
                 control given: WorkerControl? = nil, trap givenTrap: SignalTrap? = nil,
                 planning: (@Sendable () async throws -> Int)? = nil) async throws -> Int32 {
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
            // Never more workers than claimable jobs. While planning the count is unknown:
            // up to a CPU's worth start early (their pytest start-up overlaps planning),
            // the rest once the jobs are written; --mp processes start then.
            let early = multiProcess ? 0 : min(requested, WorkerCount.cpuCount, jobsAtMost)
            let workers = planningNow == nil ? max(1, min(requested, open)) : early
            let progress = ProgressPrinter(queue: queue, run: target.id, workers: workers)
            progress.start()
            let work: @Sendable (Int, Int) async throws -> Void = { [self] workers, firstIndex in
                if multiProcess {
                    try await runProcesses(count: workers, run: target.id, control: control)
                } else {
                    try await WorkerPool.run(count: workers, queue: queue, run: target,
                                             configuration: configuration, control: control, firstIndex: firstIndex)
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
                            await progress.stop()
                            throw PlanningFailure(error: error)
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
            await progress.stop()
            guard failure == nil, !control.isStopping, round < retries else { break }
            round += 1
            let retried = try await queue.retryFailures(run: target.id)
            if retried == 0 { break }
            Console.print("retry \(round) of \(retries): \(retried) failing tests run again")
        }
        let interrupted = trap.interrupted || control.stopReason == .interrupted
        let current = try await queue.run(target.id)
        if current.status == .cancelled || control.stopReason == .failFast {
            try await queue.markNotRun(run: target.id)
        } else if interrupted || failure != nil {
            try await queue.setStatus(.interrupted, of: target.id)
        } else if try await queue.counts(run: target.id).open == 0 {
            try await queue.setStatus(.complete, of: target.id)
        }
        if let failure { throw failure }
        let summary = try RunSummary.load(run: target.id, from: queue)
        printFailures(queue: queue, run: target.id)
        Console.print("run \(target.id): \(summary.line)")
        if let note = summary.unmatchedNote { Console.print(note) }
        if interrupted || summary.pending > 0 {
            Console.print("unfinished: finish it with `arun run --resume \(target.id)`")
        }
        let collectionErrorsFail = !target.pytestArgs.contains("--continue-on-collection-errors")
        let code = summary.exitCode(interrupted: interrupted, collectionErrorsFail: collectionErrorsFail,
                                    failOnFlaky: failOnFlaky)
        // Jobs still open (every worker died or stopped) leave the run unfinished.
        if code == 0, try await queue.counts(run: target.id).open > 0 { return 2 }
        return code
    }

    /// Carries a planning error past the workers' own error handling.
    struct PlanningFailure: Error {
        var error: any Error
    }

    /// `--mp`: N `arun work` processes on the same database.
    func runProcesses(count: Int, run: RunID, control: WorkerControl) async throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var arguments = ["work", "--db", database.path, "--run", String(run)] + options.forwarded
        if let python = python.python { arguments += ["--python", python] }
        let children = try (0..<count).map { _ in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            try process.run()
            return process
        }
        // Forward a stop to the children (a terminal's Ctrl-C reaches them anyway).
        let forwarder = Task {
            while !Task.isCancelled {
                if control.isStopping {
                    for child in children where child.isRunning { kill(child.processIdentifier, SIGTERM) }
                    return
                }
                try? await Task.sleep(nanoseconds: 100_000_000)
            }
        }
        defer { forwarder.cancel() }
        var failed: [Int32] = []
        for child in children {
            while child.isRunning { try await Task.sleep(nanoseconds: 50_000_000) }
            if child.terminationReason == .uncaughtSignal {
                // Its leases expire and the other workers take its jobs over.
                FileHandle.standardError.write(Data(
                    "arun: warning: worker process \(child.processIdentifier) was killed by signal \(child.terminationStatus); its jobs go to the others\n".utf8))
            } else if child.terminationStatus != 0 && child.terminationStatus != 2 {
                failed.append(child.terminationStatus)
            }
        }
        if let worst = failed.first { throw ExitCode(worst == 4 ? 4 : 3) }
    }

    func printFailures(queue: SQLiteQueue, run: RunID) {
        // pytest's order: collection errors, then failures; escaped as the text report is.
        for line in CollectionErrorText.blocks((try? queue.collectionErrors(run: run)) ?? []) { Console.print(line) }
        let failures = (try? FailureLine.load(run: run, since: 0, from: queue, limit: 30)) ?? []
        guard !failures.isEmpty else { return }
        Console.print("failures:")
        for failure in failures {
            Console.print("  \(failure.outcome.rawValue.uppercased()) \(Escape.terminal(failure.nodeid))"
                          + (failure.message.map { " - \(Escape.terminal(String($0.prefix(200))))" } ?? ""))
        }
    }
}
