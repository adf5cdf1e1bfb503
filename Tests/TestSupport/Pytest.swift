import Foundation

/// Runs a plain serial pytest, the reference arun's results must match.
public enum SerialPytest {
    /// The counts of pytest's final summary line ("3 failed, 10 passed, 1 skipped in 0.5s").
    public static func counts(in directory: String, arguments: [String] = []) throws -> [String: Int] {
        let output = try ChildProcess.run("/usr/bin/env", ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"] + arguments,
                                          directory: directory)
        return parseSummary(output.stdout)
    }

    /// Parses the last line shaped like pytest's summary: "N word, N word … in S".
    public static func parseSummary(_ text: String) -> [String: Int] {
        let lines = text.split(separator: "\n").map(String.init)
        guard let line = lines.last(where: { $0.contains(" in ") && $0.range(of: #"\d+ \w+"#, options: .regularExpression) != nil })
        else { return [:] }
        var counts: [String: Int] = [:]
        let pattern = try! NSRegularExpression(pattern: #"(\d+) (failed|passed|skipped|xfailed|xpassed|errors?|crashed|timeout|not run|pending|subtests passed|warnings?)"#)
        let range = NSRange(line.startIndex..., in: line)
        for match in pattern.matches(in: line, range: range) {
            guard let number = Range(match.range(at: 1), in: line), let word = Range(match.range(at: 2), in: line) else { continue }
            var key = String(line[word])
            if key == "errors" { key = "error" }
            if key == "warnings" { key = "warning" }
            counts[key, default: 0] += Int(line[number]) ?? 0
        }
        return counts
    }
}
