import Foundation

/// Why a plan could not be made from the command line and the suite, each with the fix.
public enum PlanError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownPath(String)
    case notADirectory(flag: String, path: String)
    case emptyDirectory(flag: String, path: String)
    case conflictingModes([String])
    case badExpression(String, reason: String)
    case pytestUsage(String)
    /// pytest ended collection without finishing it; `code` is its exit code when it exited.
    case collectionFailed(status: String, output: String, code: Int32? = nil)
    case noTests(paths: [String])
    case noStrategyTarget(String)
    case durationsUnreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownPath(path):
            "no such file or directory: \(path); pass paths that exist (relative to \(FileManager.default.currentDirectoryPath))"
        case let .notADirectory(flag, path):
            "\(flag) \(path): not a directory; give the folder that holds the tests"
        case let .emptyDirectory(flag, path):
            "\(flag) \(path): no tests collected there; check the folder and pytest's python_files setting"
        case let .conflictingModes(flags):
            "\(flags.joined(separator: " and ")) cannot be combined: choose one way to split the run"
        case let .badExpression(expression, reason):
            "invalid mark expression '\(expression)': \(reason); use pytest -m syntax (and, or, not, parentheses)"
        case let .pytestUsage(line):
            "pytest rejected the arguments: \(line)"
        case let .collectionFailed(status, output, _):
            "pytest collection failed (\(status)): \(output)"
        case let .noTests(paths):
            "no tests collected from \(paths.isEmpty ? "the current directory" : paths.joined(separator: " "))"
        case let .noStrategyTarget(message):
            message
        case let .durationsUnreadable(path, reason):
            "durations file \(path): \(reason); write one with `arun durations export > FILE`"
        }
    }

    /// pytest's codes: 5 when nothing was collected, pytest's own code when it stopped
    /// collecting (2 interrupted, 3 internal error), 4 otherwise.
    public var exitCode: Int32 {
        switch self {
        case .noTests: 5
        case let .collectionFailed(_, _, code): code.flatMap { (2...4).contains($0) ? $0 : nil } ?? 3
        default: 4
        }
    }
}

extension PlannerError {
    /// Every planner error is a usage error.
    public var exitCode: Int32 { 4 }
}
