import ArgumentParser
import Foundation
import Queue
import Reports

/// `arun history NODEID`: one test's outcomes and durations across runs.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Show one test's outcomes, durations and flaky rate across runs.",
        discussion: "Example: arun history 'tests/test_api.py::test_login[admin]' --json")

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The test's pytest node id.") var nodeid: String
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Show at most this many runs, newest first.") var limit = 200

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let reader = try database.openForReading()
        _ = try await reader.runOrLatest(nil)  // a database without runs is the user's mistake
        let history: TestHistory
        do {
            history = try await TestHistory.load(nodeid: nodeid, from: reader, limit: limit)
        } catch let error as ReportError {
            throw UsageError(error.description)
        }
        Console.print(json ? history.json : history.text, terminator: "")
    }
}
