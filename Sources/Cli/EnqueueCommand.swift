import ArgumentParser
import Foundation
import Planner
import Queue
import Reports
import Runner

/// `arun enqueue`: discover tests and write shard jobs.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue", abstract: "Collect the suite and write its jobs into the database.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var plan: PlanOptions
    @OptionGroup var python: PythonOptions
    @OptionGroup var colour: ColorOption
    @OptionGroup(title: "pytest options (passed to every pytest, as after --)") var pytest: PytestOptions

    @Option(name: .customShort("n"), parsing: .unconditional, help: "Workers to balance jobs for: a number or auto (the CPU count).",
            transform: WorkerCount.parse)
    var workers: WorkerCount?

    @Flag(name: .customLong("dry-run"), help: "Plan and print, write nothing.")
    var dryRun = false

    @Flag(help: "Print one JSON object.")
    var json = false

    /// pytest's options given directly, then the arguments after `--`: for every pytest.
    var pytestArgs: [String] { pytest.withPassthrough }

    func run() async throws {
        colour.apply()
        let python = try await self.python.resolved()
        let planning = try plan.planning(python: python, pytestArgs: pytestArgs,
                                         workers: workers?.resolved ?? WorkerCount.cpuCount)
        if let notice = plan.strategyNotice(planning.request.mode, directory: planning.request.directory) {
            // The JSON stays one object on stdout.
            if json { FileHandle.standardError.write(Data("arun: \(notice)\n".utf8)) } else { Console.print(notice) }
        }
        _ = try Planner().prepare(planning.request)  // usage errors before the database is touched
        let queue = dryRun ? nil : try await database.open(verifying: true)  // quick_check before this adds to the file
        var (made, run) = try await planning.make(queue: queue)
        // Not on a run's critical path, so a dry run may collect to count a file plan's tests.
        if dryRun { made = try await Planner().countingTests(of: made, request: planning.request) }
        if json {
            Console.print(made.summaryJSON(run: run?.id))
        } else {
            PlanSummary.print(made, run: run, workers: planning.request.workers)
            for line in CollectionErrorText.blocks(made.collectionErrors) { Console.print(Painter.collectionErrorLine(line)) }
        }
    }
}
