import Foundation
import Queue

/// The parts of pytest's terminal output that come after the tests, rebuilt from the
/// database: ERRORS, FAILURES, PASSES/XPASSES (with `-rP`/`-rX`) with each test's full
/// failure text and captured sections, and the closing "short test summary info" for the
/// run's `-r` characters. Lines are pytest's, at the terminal width pytest would use.
struct PytestSections {
    let report: RunReport
    let options: PytestTerminalOptions
    /// pytest's `fullwidth`: `COLUMNS`, else 80.
    let width: Int
    /// pytest prints whole messages in the short summary on CI (`CI` or `BUILD_NUMBER` set).
    let onCI: Bool

    init(_ report: RunReport, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.report = report
        options = PytestTerminalOptions(arguments: report.run.pytestArgs)
        width = environment["COLUMNS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } ?? 80
        onCI = environment["CI"] != nil || environment["BUILD_NUMBER"] != nil
    }

    /// ERRORS, FAILURES, PASSES and XPASSES, as pytest prints them (nothing with `--tb=no`).
    func blocks() -> [String] {
        guard options.tracebackStyle != "no" else { return [] }
        var out: [String] = []
        var errors: [String] = []
        for problem in report.collectionErrors {
            errors.append(separator("_", "ERROR collecting \(problem.location.isEmpty ? "<session>" : problem.location)"))
            errors.append(problem.message)
        }
        var failures: [String] = []
        var passes: [String] = []
        var xpasses: [String] = []
        for test in report.tests {
            guard let outcome = test.outcome else { continue }
            // Most tests passed quietly: nothing to print, nothing to compute.
            if outcome == .passed, test.captured.sections.isEmpty, !test.captured.teardownError { continue }
            let head = Self.head(test)
            let parts = Self.phaseTexts(test)
            switch outcome {
            case .error:
                let phase = test.captured.callPassed ? "teardown" : "setup"
                errors.append(separator("_", "ERROR at \(phase) of \(head)"))
                errors += body(parts.primary ?? test.message, sections: test.captured.sections)
                if test.captured.callPassed {
                    passes += passBlock(test, head: head, teardownShown: false)
                }
            case .failed, .crashed, .timeout:
                if options.tracebackStyle == "line" {
                    failures += body(parts.primary ?? test.message, sections: test.captured.sections)
                    if let line = (parts.primary ?? test.message)?.split(separator: "\n").last { failures.append(String(line)) }
                } else {
                    failures.append(separator("_", head))
                    let kept = test.captured.teardownError
                        ? test.captured.sections.filter { !$0.title.hasSuffix(" teardown") } : test.captured.sections
                    failures += body(parts.primary ?? test.message, sections: kept)
                }
            case .passed:
                passes += passBlock(test, head: head, teardownShown: !test.captured.teardownError)
            case .xpassed:
                if !test.captured.sections.isEmpty {
                    xpasses.append(separator("_", head))
                    xpasses += body(nil, sections: test.captured.sections)
                }
            default:
                break
            }
            if test.captured.teardownError, outcome != .error {
                errors.append(separator("_", "ERROR at teardown of \(head)"))
                errors += body(parts.teardown ?? test.message, sections: test.captured.sections)
            }
        }
        if !errors.isEmpty { out += [separator("=", "ERRORS")] + errors }
        if !failures.isEmpty { out += [separator("=", "FAILURES")] + failures }
        if options.shows("P"), report.tests.contains(where: { $0.outcome == .passed || $0.captured.callPassed }) {
            out += [separator("=", "PASSES")] + passes
        }
        if options.shows("X"), report.tests.contains(where: { $0.outcome == .xpassed }) {
            out += [separator("=", "XPASSES")] + xpasses
        }
        return out
    }

    /// A passed call's block in PASSES: only when it captured something.
    private func passBlock(_ test: RunReport.TestRecord, head: String, teardownShown: Bool) -> [String] {
        guard options.shows("P") else { return [] }
        let callSections = test.captured.sections.filter { !$0.title.hasSuffix(" teardown") }
        var out: [String] = []
        if !callSections.isEmpty {
            out.append(separator("_", head))
            out += body(nil, sections: callSections)
        }
        if teardownShown {
            out += body(nil, sections: test.captured.sections.filter { $0.title.hasSuffix(" teardown") })
        }
        return out
    }

    /// A failure's text as pytest's terminal wrote it (a traceback starts with a blank
    /// line), then each captured section under its own `---- title ----` line.
    private func body(_ text: String?, sections: [Captured.Section]) -> [String] {
        var out: [String] = []
        if let text, !text.isEmpty { out.append(text) }
        for section in sections {
            out.append(separator("-", section.title))
            out.append(section.text.hasSuffix("\n") ? String(section.text.dropLast()) : section.text)
        }
        return out
    }

    /// The "short test summary info" lines for the run's `-r` characters; empty when none apply.
    func shortSummary() -> [String] {
        var lines: [String] = []
        for char in options.reportChars {
            switch char {
            case "f": lines += simple(report.tests.filter { $0.failing && $0.outcome != .error })
            case "E": lines += errorLines()
            case "p":
                lines += report.tests.filter { $0.outcome == .passed || $0.captured.callPassed }
                    .map { "PASSED \($0.nodeid)" }
            case "s": lines += skippedLines()
            case "x": lines += reasonLines(report.tests.filter { $0.outcome == .xfailed }, word: "XFAIL")
            case "X": lines += reasonLines(report.tests.filter { $0.outcome == .xpassed }, word: "XPASS")
            default: break
            }
        }
        guard !lines.isEmpty else { return [] }
        return [separator("=", "short test summary info")] + lines
    }

    private func errorLines() -> [String] {
        var lines = report.collectionErrors.map {
            line("ERROR", $0.location.isEmpty ? "<session>" : $0.location, message: Self.crashMessage($0.message))
        }
        for test in report.tests {
            if test.outcome == .error {
                lines.append(line("ERROR", test.nodeid, message: onCI ? test.captured.crash ?? test.message : test.message))
            } else if test.captured.teardownError {
                let teardown = Self.phaseTexts(test).teardown.flatMap(Self.crashMessage)
                lines.append(line("ERROR", test.nodeid, message: teardown))
            }
        }
        return lines
    }

    private func simple(_ tests: [RunReport.TestRecord]) -> [String] {
        tests.map { test in
            let word = test.outcome == .crashed ? "CRASHED" : test.outcome == .timeout ? "TIMEOUT" : "FAILED"
            return line(word, test.nodeid, message: onCI ? test.captured.crash ?? test.message : test.message)
        }
    }

    private func reasonLines(_ tests: [RunReport.TestRecord], word: String) -> [String] {
        tests.map { test in
            var line = "\(word) \(test.nodeid)"
            if let reason = test.message, !reason.isEmpty { line += " - " + reason }
            return line
        }
    }

    /// pytest folds skips by (location, reason): `SKIPPED [2] tests/test_a.py:12: reason`.
    private func skippedLines() -> [String] {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for test in report.tests where test.outcome == .skipped {
            let location = test.captured.skipLocation ?? test.file
            let key = "\(location): \(test.message ?? "")"
            if counts[key] == nil { order.append(key) }
            counts[key, default: 0] += 1
        }
        return order.map { "SKIPPED [\(counts[$0] ?? 0)] \($0)" }
    }

    /// `WORD nodeid - message`, the message's first line cut to the terminal width as
    /// pytest's `_format_trimmed` does (whole on CI).
    private func line(_ word: String, _ nodeid: String, message: String?) -> String {
        let start = "\(word) \(nodeid)"
        guard let message else { return start }
        if onCI { return start + " - " + message }
        var text = message
        if let newline = text.firstIndex(of: "\n") { text = String(text[..<newline]) }
        let available = width - start.count
        if 3 + 3 > available { return start }
        if 3 + text.count > available {
            text = String(text.prefix(max(0, available - 3 - 3))) + "..."
        }
        return start + " - " + text
    }

    /// pytest's `TerminalWriter.sep`: `==== title ====` filling the width.
    func separator(_ char: Character, _ title: String) -> String {
        let fill = max((width - title.count - 2) / 2, 1)
        var line = String(repeating: char, count: fill) + " " + title + " " + String(repeating: char, count: fill)
        if line.count + 1 <= width { line.append(char) }
        return line
    }

    /// pytest's headline: the recorded one, else the node id's parts after the file, dotted.
    static func head(_ test: RunReport.TestRecord) -> String {
        if let head = test.captured.head, !head.isEmpty { return head }
        let (_, rest) = JUnitName.split(test.nodeid)
        return rest.isEmpty ? test.nodeid : rest.joined(separator: ".")
    }

    /// The failure text of the failing phase and of a failed teardown after it (the plugin
    /// joins them with a `--- teardown ---` line).
    static func phaseTexts(_ test: RunReport.TestRecord) -> (primary: String?, teardown: String?) {
        guard let details = test.details, !details.isEmpty else { return (nil, nil) }
        if test.outcome == .error, test.captured.callPassed { return (details, nil) }
        guard test.captured.teardownError, let range = details.range(of: "\n--- teardown ---\n", options: .backwards)
        else { return (details, nil) }
        return (String(details[..<range.lowerBound]), String(details[range.upperBound...]))
    }

    /// The `E   Error: message` line of a traceback, as a one-line message.
    static func crashMessage(_ text: String) -> String? {
        let lines = text.split(separator: "\n")
        guard let line = lines.first(where: { $0.hasPrefix("E ") }) else { return lines.last.map(String.init) }
        return line.dropFirst(1).trimmingCharacters(in: .whitespaces)
    }
}
