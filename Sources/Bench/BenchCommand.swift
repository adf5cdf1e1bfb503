import ArgumentParser
import Foundation

/// `arun-bench`: measurements that print JSON. Timed figures live here, never in tests.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arun-bench",
        abstract: "Benchmarks of arun's parts; each prints one JSON object.",
        subcommands: [QueueBench.self, DrainProbe.self, HoldProbe.self, MigrateProbe.self]
    )
}
