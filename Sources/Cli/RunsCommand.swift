import ArgumentParser
import Foundation
import Queue
import Reports

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
        let reader = try database.openForReading()
        var ids = try await reader.runIDs()
        if ids.isEmpty { throw QueueError.noRuns(path: reader.path) }
        if let limit { ids = Array(ids.prefix(limit)) }
        if !json { Console.print(RunListing.textHeader) }
        for id in ids {
            let summary = try await RunSummary.load(run: id, from: reader)
            Console.print(json ? RunListing.jsonLine(summary) : RunListing.textLine(summary))
        }
    }
}
