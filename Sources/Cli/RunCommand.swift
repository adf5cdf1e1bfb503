import ArgumentParser
import Foundation
import Planner
import Queue
import Reports
import Worker

/// `arun run`: enqueue, work and summarise in one command.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Plan the suite, run it with N workers, print the summary.",
        discussion: """
            Examples:
              arun run tests/ -n 4
              arun run --mp --dist-mark "smoke regression"
              arun run --resume          (finish the latest run)
              arun run tests/ -- -p no:randomly --alluredir reports/json
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var plan: PlanOptions
    @OptionGroup var python: PythonOptions
    @OptionGroup var options: WorkerOptions

    @Option(name: .customShort("n"), help: "Workers: a number or auto (CPU count). Default: one per group with a dist mode, else the CPU count.")
    var workers: WorkerCount?

    @Flag(name: .customLong("mt"), help: "Workers as tasks of this process (default); pytest always runs in its own processes.")
    var multiTask = false

    @Flag(name: .customLong("mp"), help: "Workers as separate `arun work` processes.")
    var multiProcess = false

    @Flag(help: "Finish an earlier run (the latest, or the id given as the only path) instead of planning a new one.")
    var resume = false

    /// Arguments after `--` go to every pytest.
    var pytestArgs: [String] { Passthrough.pytestArguments }

    func validate() throws {
        if multiTask && multiProcess { throw ValidationError("--mt and --mp cannot be combined: choose one") }
    }

    func run() async throws {
        let queue = try database.open()
        let target: Run
        var workerCount = workers?.value ?? WorkerCount.cpuCount
        if resume {
            target = try await resumable(queue)
        } else {
            let planning = try Planning(plan: plan, python: python, pytestArgs: pytestArgs, workers: workerCount)
            let (made, run) = try await planning.make(queue: queue)
            guard let run else { throw ExitCode(3) }
            target = run
            if workers == nil, planning.request.mode != .automatic {
                workerCount = max(1, made.jobs.count)  // aomaker's rule: one worker per group
            }
            Planning.printSummary(made, run: run, workers: workerCount)
        }
        let counts = try await queue.counts(run: target.id)
        workerCount = max(1, min(workerCount, counts.open))
        let control = WorkerControl(grace: 3)
        let trap = SignalTrap { control.stop(.interrupted) }
        let configuration = try options.configuration(python: python.interpreter,
                                                      logDirectory: database.logDirectory(run: target.id))
        try await queue.setStatus(.running, of: target.id)
        let progress = ProgressPrinter(queue: queue, run: target.id, workers: workerCount)
        progress.start()
        var failure: (any Error)?
        do {
            if multiProcess {
                try await runProcesses(count: workerCount, run: target.id, control: control)
            } else {
                try await WorkerPool.run(count: workerCount, queue: queue, run: target,
                                         configuration: configuration, control: control)
            }
        } catch {
            failure = error
        }
        progress.stop()
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
        if interrupted { Console.print("interrupted: finish it with `arun run --resume \(target.id)`") }
        let collectionErrorsFail = !target.pytestArgs.contains("--continue-on-collection-errors")
        let code = summary.exitCode(interrupted: interrupted, collectionErrorsFail: collectionErrorsFail)
        if code != 0 { throw ExitCode(code) }
    }

    /// The run to resume: the id given as the only path, else the latest.
    func resumable(_ queue: SQLiteQueue) async throws -> Run {
        if plan.paths.count == 1, let id = Int64(plan.paths[0]) { return try await queue.run(id) }
        if !plan.paths.isEmpty { throw UsageError("--resume takes at most one run id, not paths") }
        guard let latest = try queue.latestRun() else { throw QueueError.noRuns(path: queue.path) }
        return latest
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
        let failures = (try? FailureLine.load(run: run, since: 0, from: queue, limit: 30)) ?? []
        guard !failures.isEmpty else { return }
        Console.print("failures:")
        for failure in failures {
            Console.print("  \(failure.outcome.rawValue.uppercased()) \(failure.nodeid)"
                  + (failure.message.map { " - \($0.prefix(200))" } ?? ""))
        }
    }
}
