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
        discussion: "Exits 0 when the run is drained, 2 when interrupted, 3 on internal errors, 4 on usage errors.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var python: PythonOptions
    @OptionGroup var options: WorkerOptions
    @OptionGroup var colour: ColorOption

    @Option(help: "The run to work on (default: the latest).")
    var run: Int64?

    @Option(name: .customShort("n"), parsing: .unconditional, help: "Worker tasks in this process.",
            transform: WorkerCount.parse)
    var workers: WorkerCount?

    func run() async throws {
        colour.apply()
        let python = try await self.python.resolved()
        let queue = try database.open()
        let target = try queue.runOrLatest(run)
        let control = WorkerControl()
        let trap = SignalTrap { control.stop(.interrupted) }
        // The run's own settings (lease, test timeout, -x…), overridden by options given here.
        let settings = target.settings.overridden(by: options.given)
        let configuration = try settings.workerConfiguration(python: python.interpreter,
                                                             logDirectory: database.logDirectory(run: target.id))
        // A run with no jobs yet is being planned (`arun run --mp`): the planner marks it running.
        if try await queue.counts(run: target.id).total > 0 { try await queue.setStatus(.running, of: target.id) }
        // Never more workers than claimable jobs (a run still being planned has none yet).
        let open = try await queue.counts(run: target.id).open
        let count = open > 0 ? min(workers?.resolved ?? 1, open) : workers?.resolved ?? 1
        try await WorkerPool.run(count: count, queue: queue, run: target,
                                 configuration: configuration, control: control)
        // Collection errors as pytest shows them: nothing else would tell this worker's user.
        for line in CollectionErrorText.blocks((try? await queue.collectionErrors(run: target.id)) ?? []) {
            Console.print(Painter.collectionErrorLine(line))
        }
        if trap.interrupted || control.stopReason == .interrupted { throw ExitCode(2) }
    }
}
