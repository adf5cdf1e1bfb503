import ArgumentParser
import Foundation

/// `arun`: run large pytest suites in parallel, resumably and measurably.
@main
struct Arun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arun",
        abstract: "Run large pytest suites in parallel from a SQLite job queue.",
        discussion: """
            Exit codes follow pytest: 0 all passed, 1 tests failed, 2 interrupted or collection errors, \
            3 internal error, 4 usage error, 5 no tests collected.
            """,
        version: ArunVersion.current,
        subcommands: [RunCommand.self, EnqueueCommand.self, WorkCommand.self, ReportCommand.self, RunsCommand.self,
                      RerunCommand.self, HistoryCommand.self, DurationsCommand.self]
    )

    static func main() async {
        // A parent that started us from async code may have left these blocked; we need them.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        do {
            let arguments = Array(CommandLine.arguments.dropFirst())
            // Everything after the first `--` belongs to pytest, untouched by our parser.
            let split = arguments.firstIndex(of: "--")
            Passthrough.pytestArguments = split.map { Array(arguments[($0 + 1)...]) } ?? []
            var command = try parseAsRoot(split.map { Array(arguments[..<$0]) } ?? arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Failure.exit(with: error)
        }
    }
}

/// The arguments after `--`, passed to every pytest.
enum Passthrough {
    nonisolated(unsafe) static var pytestArguments: [String] = []
}
