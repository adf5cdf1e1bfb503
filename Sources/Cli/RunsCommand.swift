import ArgumentParser
import Foundation
import Queue
import Reports
import Worker

/// `arun runs`: the runs in the database, newest first.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List runs with their status, start, wall time and totals.",
        discussion: "--json prints one JSON object per run and line (JSON Lines), documented in docs/queries.md.")

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Print one JSON object per line.") var json = false
    @Option(help: "Show at most this many runs, newest first.") var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let queue = try database.open()
        // Runs whose workers all died show as interrupted from now on.
        _ = try? await LockPatience.$seconds.withValue(1) { try await WorkerRecovery.recover(queue) }
        var ids = try await queue.runIDs()
        if ids.isEmpty { throw QueueError.noRuns(path: queue.path) }
        if let limit { ids = Array(ids.prefix(limit)) }
        if !json { Console.print(RunListing.textHeader) }
        for id in ids {
            let summary = try await RunSummary.load(run: id, from: queue)
            Console.print(json ? RunListing.jsonLine(summary) : RunListing.textLine(summary))
        }
    }
}
