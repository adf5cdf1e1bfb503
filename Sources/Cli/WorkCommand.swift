import ArgumentParser
import Foundation
import Queue
import Reports
import Runner
import Worker

/// `arun work`: claim and run jobs of a run until it is drained.
struct WorkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "work",
        abstract: "Claim and run jobs of a run until none is left.",
        discussion: """
            Shows progress and the run's summary; exits with pytest's code for the run (0 passed, 1 failed, \
            2 interrupted or unfinished), 3 on internal errors, 4 on usage errors.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var python: PythonOptions
    @OptionGroup var options: WorkerOptions
    @OptionGroup var colour: ColorOption

    @Option(help: "The run to work on (default: the latest).")
    var run: Int64?

    @Option(name: .customShort("n"), parsing: .unconditional, help: "Worker tasks in this process.",
            transform: WorkerCount.parse)
    var workers: WorkerCount?

    /// Set by `arun run --mp`: the parent's pid. The child ends when that parent dies and
    /// leaves the console to it.
    @Option(help: .hidden) var supervisor: Int32?

    func run() async throws {
        colour.apply()
        let startedAt = Date()
        let control = WorkerControl()
        if let supervisor { ParentWatch.start(parent: supervisor) { control.stop(.interrupted) } }
        let trap = SignalTrap(quiet: supervisor != nil) { control.stop(.interrupted) }
        let python = try await self.python.resolved()
        let queue = try await database.open()
        if supervisor == nil { try await WorkerRecovery.recover(queue) }
        let target = try await queue.runOrLatest(run)
        // The run's own settings (lease, test timeout, -x…), overridden by options given here.
        var settings = target.settings.overridden(by: options.given)
        // A child of `arun run --mp`, or a run with no jobs yet (being planned by `arun run
        // --mp`, which marks it running): only work. Otherwise, as `arun run` would.
        let child = ProcessInfo.processInfo.environment[WorkerProcesses.childVariable] != nil
        let beingPlanned = try await queue.counts(run: target.id).total == 0
        guard child || beingPlanned else {
            // On its own: progress, the run's summary and pytest's exit code, as `arun run`;
            // its workers are tasks of this process, one round (retries belong to `arun run`).
            settings.workerProcesses = false
            settings.retries = 0
            let execution = try RunWiring(database: database, settings: settings, python: python, startedAt: startedAt)
                .execution(run: target.id, queue: queue)
            let code = try await RunWiring.finish(execution, target: target, queue: queue,
                                                  workers: workers?.resolved ?? 1, control: control, trap: trap)
            if code != 0 { throw ExitCode(code) }
            return
        }
        let configuration = try settings.workerConfiguration(python: python.interpreter,
                                                             logDirectory: database.logDirectory(run: target.id))
        // A run with no jobs yet is being planned (`arun run --mp`): the planner marks it running.
        if try await queue.counts(run: target.id).total > 0 { try await queue.setStatus(.running, of: target.id) }
        // Never more workers than claimable jobs (a run still being planned has none yet).
        let open = try await queue.counts(run: target.id).open
        let count = open > 0 ? min(workers?.resolved ?? 1, open) : workers?.resolved ?? 1
        try await WorkerPool.run(count: count, queue: queue, run: target,
                                 configuration: configuration, control: control)
        if let supervisor, getppid() != supervisor {
            // The parent died: whichever worker stops last settles the run it left running.
            _ = try? await (queue as? SQLiteQueue)?.settleAbandoned(runs: [target.id])
            throw ExitCode(2)
        }
        if trap.interrupted || control.stopReason == .interrupted { throw ExitCode(2) }
    }
}
