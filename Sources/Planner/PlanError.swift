import Foundation

/// Everything the planner refuses to plan (paths, modes, pytest's collection, strategy
/// files, balancing, shards), each with a one-line message that
/// names the problem and how to fix it.
///
/// Strategy cases carry `source` (the strategy file as the user would name it)
/// so the message points at the file to edit.
public enum PlanError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: Paths, modes and pytest's collection

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

    // MARK: Strategy file

    /// The strategy file could not be read at all.
    case strategyUnreadable(source: String, reason: String)
    /// The strategy file is empty or holds only comments.
    case strategyEmpty(source: String)
    /// YAML syntax error; `line` when Yams reports one.
    case strategyMalformed(source: String, line: Int?, problem: String)
    /// The document is not a `key: value` mapping.
    case strategyNotMapping(source: String, found: String)
    /// Top-level keys other than `target` and `marks`.
    case strategyUnknownKeys(source: String, keys: [String])
    /// `target` is absent.
    case strategyMissingTarget(source: String)
    /// `target` is present but names nothing.
    case strategyEmptyTarget(source: String)
    /// `target` (or one of its items) is not a string.
    case strategyTargetNotString(source: String, found: String)
    /// `marks` is absent.
    case strategyMissingMarks(source: String)
    /// `marks` is not a mapping of category → marks.
    case strategyMarksNotMapping(source: String, found: String)
    /// A target names no category under `marks`.
    case strategyUnknownCategory(source: String, target: String, known: [String])
    /// A target names a category of named strategies without choosing one.
    case strategyNestedTarget(source: String, target: String, choices: [String])
    /// A target `a.b` where `a` has no strategy `b`.
    case strategyUnknownStrategy(source: String, target: String, choices: [String])
    /// A target `a.b` where `a` is a plain list of marks.
    case strategyCategoryIsList(source: String, target: String, category: String)
    /// A `marks` entry that is neither a list nor a mapping of lists.
    case strategyBadEntry(source: String, path: String, found: String)
    /// A list item under `marks` that is not a non-empty string.
    case strategyBadMark(source: String, path: String, position: Int, found: String)
    /// A targeted list of marks is empty, so the target would run nothing.
    case strategyEmptyMarks(source: String, path: String, target: String)

    // MARK: Balancing and sharding

    /// Fewer than one worker.
    case invalidWorkerCount(Int)
    /// A balancer setting that is negative, zero where it must not be, or not finite.
    case invalidBalancerSetting(name: String, value: String, expected: String)
    /// A shard count below one.
    case invalidShardCount(Int)
    /// A shard index outside `0..<count`.
    case invalidShardIndex(index: Int, count: Int)
    /// A group weight that is negative, infinite or NaN.
    case invalidWeight(group: String, weight: Double)

    public var description: String {
        switch self {
        case let .unknownPath(path):
            return "no such file or directory: \(path); pass paths that exist (relative to \(FileManager.default.currentDirectoryPath))"
        case let .notADirectory(flag, path):
            return "\(flag) \(path): not a directory; give the folder that holds the tests"
        case let .emptyDirectory(flag, path):
            return "\(flag) \(path): no tests collected there; check the folder and pytest's python_files setting"
        case let .conflictingModes(flags):
            return "\(flags.joined(separator: " and ")) cannot be combined: choose one way to split the run"
        case let .badExpression(expression, reason):
            return "invalid mark expression '\(expression)': \(reason); use pytest -m syntax (and, or, not, parentheses)"
        case let .pytestUsage(line):
            return "pytest rejected the arguments: \(line)"
        case let .collectionFailed(status, output, _):
            return "pytest collection failed (\(status)): \(output)"
        case let .noTests(paths):
            return "no tests collected from \(paths.isEmpty ? "the current directory" : paths.joined(separator: " "))"
        case let .noStrategyTarget(message):
            return message
        case let .durationsUnreadable(path, reason):
            return "durations file \(path): \(reason); write one with `arun durations export > FILE`"
        case let .strategyUnreadable(source, reason):
            return "strategy file \(source): cannot be read (\(reason)); check the path and its permissions"
        case let .strategyEmpty(source):
            return "strategy file \(source): is empty; add a 'target:' list and a 'marks:' mapping"
        case let .strategyMalformed(source, line, problem):
            let place = line.map { " at line \($0)" } ?? ""
            return "strategy file \(source): invalid YAML\(place): \(problem); fix the syntax there"
        case let .strategyNotMapping(source, found):
            return "strategy file \(source): top level is \(found), not a mapping; write 'target: [...]' and 'marks: {...}' at the top level"
        case let .strategyUnknownKeys(source, keys):
            return "strategy file \(source): unknown top-level key(s) \(quotedList(keys)); only 'target' and 'marks' are allowed, remove or rename them"
        case let .strategyMissingTarget(source):
            return "strategy file \(source): no 'target' key; add e.g. \"target: ['smoke']\" naming categories under 'marks'"
        case let .strategyEmptyTarget(source):
            return "strategy file \(source): 'target' is empty; list at least one category (or category.strategy) from 'marks'"
        case let .strategyTargetNotString(source, found):
            return "strategy file \(source): 'target' contains \(found); each target must be a string like 'iaas.smoke' or 'hpc'"
        case let .strategyMissingMarks(source):
            return "strategy file \(source): no 'marks' key; add a 'marks:' mapping of categories to lists of marks"
        case let .strategyMarksNotMapping(source, found):
            return "strategy file \(source): 'marks' is \(found), not a mapping; map each category to a list of marks or to named strategies"
        case let .strategyUnknownCategory(source, target, known):
            let fix = known.isEmpty ? "'marks' defines no categories" : "known categories: \(known.joined(separator: ", "))"
            return "strategy file \(source): target '\(target)' names no category under 'marks'; \(fix)"
        case let .strategyNestedTarget(source, target, choices):
            return "strategy file \(source): target '\(target)' names nested strategies; pick one of: \(choices.joined(separator: ", "))"
        case let .strategyUnknownStrategy(source, target, choices):
            return "strategy file \(source): target '\(target)' names no strategy; pick one of: \(choices.joined(separator: ", "))"
        case let .strategyCategoryIsList(source, target, category):
            return "strategy file \(source): target '\(target)' picks a strategy, but marks.\(category) is a plain list; use target '\(category)'"
        case let .strategyBadEntry(source, path, found):
            return "strategy file \(source): \(path) is \(found); it must be a list of marks or a mapping of strategy names to lists"
        case let .strategyBadMark(source, path, position, found):
            return "strategy file \(source): \(path) item \(position) is \(found); each item must be a mark name or expression string (quote it)"
        case let .strategyEmptyMarks(source, path, target):
            return "strategy file \(source): target '\(target)' selects \(path), which lists no marks; add marks or drop it from 'target'"
        case let .invalidWorkerCount(count):
            return "worker count \(count) is invalid; use at least 1 worker"
        case let .invalidBalancerSetting(name, value, expected):
            return "balancer setting \(name) = \(value) is invalid; use \(expected)"
        case let .invalidShardCount(count):
            return "shard count \(count) is invalid; use a count of at least 1"
        case let .invalidShardIndex(index, count):
            return "shard index \(index) is out of range for \(count) shard(s); use an index from 0 to \(count - 1)"
        case let .invalidWeight(group, weight):
            return "group '\(group)' has weight \(weight); weights must be finite and non-negative, check the durations file"
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

/// `'a', 'b'`: how messages list user-supplied names.
private func quotedList(_ names: [String]) -> String {
    names.map { "'\($0)'" }.joined(separator: ", ")
}
