import Foundation
import Queue

/// Collection errors the way pytest prints them, for a terminal: under
/// "ERROR collecting FILE" the error's relevant lines (the project's traceback
/// entry and the "E   …" lines), and pytest's short summary form.
public enum CollectionErrorText {
    /// Every error's block, escaped for a terminal.
    public static func blocks(_ problems: [CollectionProblem]) -> [String] {
        problems.flatMap { problem -> [String] in
            let body = problem.message.split(separator: "\n", omittingEmptySubsequences: true)
                .map { Escape.terminal(String($0)) }
            return ["ERROR collecting \(Escape.terminal(location(problem)))"] + body
        }
    }

    /// `ERROR tests/test_x.py - SyntaxError: invalid syntax`, as in pytest's short test summary.
    public static func shortLine(_ problem: CollectionProblem) -> String {
        let reason = self.reason(problem.message)
        return "ERROR \(Escape.terminal(location(problem)))" + (reason.isEmpty ? "" : " - \(Escape.terminal(reason))")
    }

    /// The error itself: the last "E" line without its prefix, else the first line.
    static func reason(_ message: String) -> String {
        let lines = message.split(separator: "\n").map(String.init)
        if let last = lines.last(where: { $0.hasPrefix("E ") }) {
            return last.dropFirst(2).trimmingCharacters(in: .whitespaces)
        }
        return lines.first?.trimmingCharacters(in: .whitespaces) ?? ""
    }

    static func location(_ problem: CollectionProblem) -> String {
        problem.location.isEmpty ? "<session>" : problem.location
    }
}
