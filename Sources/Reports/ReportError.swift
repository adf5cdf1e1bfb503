import Foundation

/// Problems with what a report, history or durations command was asked for: each a
/// one-line message naming the fix, all usage errors (exit code 4).
public enum ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--status` named something that is not an outcome.
    case unknownStatus(String)
    /// `--merge` was given databases whose runs are of different suites.
    case differentSuites(first: String, other: String, reason: String)
    /// `--merge` was given fewer than two databases, or one twice.
    case badMerge(String)
    /// No run in the database holds this test.
    case unknownTest(String, suggestions: [String])
    /// A durations file that is not a JSON object of node id → seconds.
    case badDurations(path: String, reason: String)
    /// The report could not be written.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownStatus(status):
            "unknown status \(status) in --status: use \(RunReport.statusNames.joined(separator: ", "))"
        case let .differentSuites(first, other, reason):
            "\(first) and \(other) hold runs of different suites (\(reason)): merge only shards of one suite"
        case let .badMerge(reason):
            "--merge \(reason)"
        case let .unknownTest(nodeid, suggestions):
            "no run holds the test \(nodeid)"
                + (suggestions.isEmpty ? ": check the node id (`arun report --format json` lists them)"
                    : "; did you mean \(suggestions.joined(separator: " or "))?")
        case let .badDurations(path, reason):
            "\(path) \(reason): give a JSON object of node id to seconds (pytest-split's .test_durations)"
        case let .unwritable(path, reason):
            "cannot write \(path) (\(reason)): choose another -o FILE"
        }
    }

    public var exitCode: Int32 { 4 }
}
