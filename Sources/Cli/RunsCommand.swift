import ArgumentParser
import Foundation
import Queue
import Reports

/// `arun runs`: the runs in the database, newest first.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List runs with their totals.")

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Print JSON lines.") var json = false

    func run() async throws {
        let queue = try database.open()
        let ids = try queue.runIDs()
        if ids.isEmpty { throw QueueError.noRuns(path: queue.path) }
        for id in ids {
            let summary = try RunSummary.load(run: id, from: queue)
            let started = Date(timeIntervalSince1970: summary.run.startedAt ?? summary.run.createdAt)
            if json {
                Console.print(#"{"run":\#(id),"status":"\#(summary.run.status.rawValue)","created":\#(summary.run.createdAt),"tests":\#(summary.tests),"failures":\#(summary.failures)}"#)
            } else {
                Console.print("\(id)\t\(summary.run.status.rawValue)\t\(started.formatted(.iso8601))\t\(summary.line)")
            }
        }
    }
}
