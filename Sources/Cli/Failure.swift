import ArgumentParser
import Foundation
import Planner
import Pytest
import Queue
import Runner
import Worker

/// Turns any error into one line on stderr and pytest's exit code.
enum Failure {
    static func exit(with error: any Error) -> Never {
        let (message, code) = describe(error)
        if let message {
            FileHandle.standardError.write(Data("arun: \(message.replacingOccurrences(of: "\n", with: " "))\n".utf8))
        }
        Foundation.exit(code)
    }

    /// The one-line message (nil when the parser or a child already printed it) and the exit code.
    static func describe(_ error: any Error) -> (String?, Int32) {
        let (message, code): (String?, Int32)
        switch error {
        case let error as QueueError: (message, code) = (error.description, error.exitCode)
        case let error as PlanError: (message, code) = (error.description, error.exitCode)
        case let error as PytestError: (message, code) = (error.description, error.exitCode)
        case let error as WorkerError: (message, code) = (error.description, error.exitCode)
        case let error as RunnerError: (message, code) = (error.description, error.exitCode)
        case let error as UsageError: (message, code) = (error.message, 4)
        case let error as ExitCode: (message, code) = (nil, error.rawValue)
        default:
            let parserCode = Arun.exitCode(for: error)
            if parserCode == .success {
                // --help, --version: the parser prints them.
                Arun.exit(withError: error)
            }
            if parserCode == .validationFailure {
                // One line instead of the parser's usage block; --help has the rest.
                let text = Arun.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
                (message, code) = ("\(text) (see arun --help)", 4)
            } else {
                (message, code) = ("internal error: \(error)", 3)
            }
        }
        return (message, code)
    }
}

/// A usage problem found after parsing, with its fix.
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
