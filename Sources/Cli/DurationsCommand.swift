import ArgumentParser
import Foundation
import Queue
import Reports

/// `arun durations export|import`: test durations in pytest-split's `.test_durations` format.
struct DurationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "durations", abstract: "Export or import test durations (pytest-split's .test_durations format).",
        subcommands: [Export.self, Import.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the latest duration of every test as a JSON object of node id to seconds.",
            discussion: "Example: arun durations export -o .test_durations")

        @OptionGroup var database: DatabaseOptions
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?

        func run() async throws {
            let reader = try database.openForReading()
            let durations = try await Durations.export(from: reader)
            try ReportOutput.write(Durations.json(durations), to: output)
            if let output {
                FileHandle.standardError.write(Data("arun: wrote \(durations.count) durations to \(output)\n".utf8))
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store durations from a JSON file so planning balances jobs by them.",
            discussion: "Measured durations of recent runs take precedence; imported ones fill in the rest.")

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "A JSON object of node id to seconds, e.g. pytest-split's .test_durations.") var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw UsageError(ReportError.badDurations(path: file, reason: "cannot be read").description)
            }
            let durations = try reportUsage { try Durations.parse(data, path: file) }
            let queue = try database.open()
            let count = try await Durations.importDurations(durations, into: queue)
            Console.print("imported \(count) durations from \(file)")
        }
    }
}
