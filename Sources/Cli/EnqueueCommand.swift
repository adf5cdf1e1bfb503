import ArgumentParser
import Foundation
import Planner
import Queue
import Runner

/// `arun enqueue`: discover tests and write shard jobs.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue", abstract: "Collect the suite and write its jobs into the database.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var plan: PlanOptions
    @OptionGroup var python: PythonOptions

    @Option(name: .customShort("n"), help: "Workers to balance jobs for: a number or auto (the CPU count).")
    var workers: WorkerCount?

    @Flag(name: .customLong("dry-run"), help: "Plan and print, write nothing.")
    var dryRun = false

    @Flag(help: "Print one JSON object.")
    var json = false

    /// Arguments after `--` go to every pytest.
    var pytestArgs: [String] { Passthrough.pytestArguments }

    func run() async throws {
        let python = try await self.python.resolved()
        let planning = try plan.planning(python: python, pytestArgs: pytestArgs,
                                         workers: workers?.value ?? WorkerCount.cpuCount)
        let queue = dryRun ? nil : try database.open(verifying: true)
        let (made, run) = try await planning.make(queue: queue)
        if json {
            Console.print(made.summaryJSON(run: run?.id))
        } else {
            PlanSummary.print(made, run: run, workers: planning.request.workers)
        }
    }
}
