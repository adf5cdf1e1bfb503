import ArgumentParser
import Foundation
import Queue
import Reports

/// `arun report`: what a run did, from the database, in five formats.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Report a run (default: the latest) as text, JSON, JUnit XML, Markdown or HTML.",
        discussion: """
            Examples:
              arun report
              arun report --format junit -o junit.xml
              arun report --format html -o report.html
              arun report --format json --status failed,error
              arun report --merge shard0.db shard1.db --format junit -o junit.xml
              arun report --compare 3          # order-dependent tests against run 3
            The JSON object is documented in docs/queries.md.
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The run to report (default: the latest).") var run: Int64?
    @Option(help: "text, json, junit, markdown or html.") var format: ReportFormat = .text
    @Option(name: .shortAndLong, help: "Write the report to this file instead of standard output.")
    var output: String?
    @Option(help: "List only tests with these statuses (text and json), e.g. failed,error,flaky.")
    var status: String?
    @Option(parsing: .upToNextOption, help: "Merge the latest run of each of these shard databases into one report.")
    var merge: [String] = []
    @Option(help: ArgumentHelp("Find order-dependent tests against this run (default: the latest earlier run of the same plan).",
                               valueName: "run"))
    var compare: Int64?

    func validate() throws {
        if !merge.isEmpty && run != nil { throw ValidationError("--run cannot be combined with --merge: each database's latest run is merged") }
        if !merge.isEmpty && compare != nil { throw ValidationError("--compare cannot be combined with --merge: it compares two runs of one database") }
        if !merge.isEmpty && database.db != nil { throw ValidationError("--db cannot be combined with --merge: list every database after --merge") }
        if status != nil && format != .text && format != .json {
            throw ValidationError("--status filters the text and json formats only")
        }
    }

    func run() async throws {
        let statuses = try reportUsage { try status.map(RunReport.parseStatuses) }
        let report: RunReport
        if merge.isEmpty {
            let reader = try await database.openForReading()
            let id = try await reader.runOrLatest(run).id
            report = try await RunReport.load(run: id, from: reader, output: format.needsOutput, compare: compare,
                                            order: format.showsOrder)
        } else {
            do {
                report = try await RunReport.merge(paths: merge, output: format.needsOutput) {
                    try await DatabaseOptions(db: $0).openForReading()
                }
            } catch let error as ReportError {
                throw UsageError(error.description)
            }
            if let problems = report.merge, !problems.isEmpty {
                var parts: [String] = []
                if !problems.duplicates.isEmpty { parts.append("\(problems.duplicates.count) tests in two or more shards") }
                if !problems.missing.isEmpty { parts.append("\(problems.missing.count) tests missing from every shard") }
                if !problems.missingShards.isEmpty, let count = problems.shardCount {
                    parts.append("shards \(problems.missingShards.map(String.init).joined(separator: ", ")) of \(count) missing")
                }
                FileHandle.standardError.write(Data("arun: warning: merge: \(parts.joined(separator: "; ")) (the report names them)\n".utf8))
            }
        }
        let text = report.render(format, statuses: statuses)
        try ReportOutput.write(text, to: output)
    }
}

extension ReportFormat: ExpressibleByArgument {}

/// Where a report goes: standard output, or a file written whole.
enum ReportOutput {
    static func write(_ text: String, to path: String?) throws {
        guard let path else {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        do {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw UsageError(ReportError.unwritable(path: path, reason: (error as NSError).localizedDescription).description)
        }
    }
}

/// Report errors are the user's to fix: one line, exit code 4.
func reportUsage<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ReportError {
        throw UsageError(error.description)
    }
}
