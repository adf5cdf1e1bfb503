import ArgumentParser
import Foundation
import Queue
import Reports

/// `arun report`: what a run did, from the database.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Summarise a run (default: the latest).")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The run to report (default: the latest).") var run: Int64?

    func run() async throws {
        let queue = try database.open()
        let id: RunID
        if let run {
            id = run
        } else {
            guard let latest = try queue.latestRun() else { throw QueueError.noRuns(path: queue.path) }
            id = latest.id
        }
        let summary = try RunSummary.load(run: id, from: queue)
        for failure in try FailureLine.load(run: id, since: 0, from: queue, limit: 1000) {
            Console.print("\(failure.outcome.rawValue.uppercased()) \(failure.nodeid)" + (failure.message.map { " - \($0)" } ?? ""))
        }
        for problem in try queue.collectionErrors(run: id) {
            Console.print("COLLECTION ERROR \(problem.location) - \(problem.message)")
        }
        Console.print("run \(id) (\(summary.run.status.rawValue)): \(summary.line)")
    }
}
