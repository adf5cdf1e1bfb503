import Foundation
import Queue

/// `arun history NODEID`: one test across every run that holds it.
public struct TestHistory: Sendable {
    public struct Entry: Sendable {
        public var run: RunID
        public var runName: String?
        public var runStatus: RunStatus
        /// When the run started (or was created, if it never started).
        public var started: Double
        /// The final attempt's outcome; nil when the run has no result for the test.
        public var outcome: Outcome?
        public var attempts: Int
        /// Seconds of the final attempt.
        public var duration: Double
        /// Outcomes of every attempt, in order.
        public var outcomes: [Outcome]
        public var message: String?

        /// Passed in the end after failing on an earlier attempt.
        public var flaky: Bool { outcome == .passed && outcomes.dropLast().contains(where: \.isFailure) }
        public var status: String { outcome?.rawValue ?? "pending" }
    }

    public var nodeid: String
    /// Newest run first.
    public var entries: [Entry]

    /// Runs with a result for the test.
    public var measured: [Entry] { entries.filter { $0.outcome != nil } }

    /// Share of runs (with a result) in which the test was flaky; nil without results.
    public var flakyRate: Double? {
        let measured = measured
        return measured.isEmpty ? nil : Double(measured.filter(\.flaky).count) / Double(measured.count)
    }

    /// Share of runs (with a result) whose final attempt failed.
    public var failureRate: Double? {
        let measured = measured
        return measured.isEmpty ? nil : Double(measured.filter { $0.outcome?.isFailure ?? false }.count) / Double(measured.count)
    }

    /// Mean duration of the final attempts that ran the test's body.
    public var meanDuration: Double? {
        let timed = measured.filter { $0.outcome?.isMeasured ?? false }
        return timed.isEmpty ? nil : timed.reduce(0) { $0 + $1.duration } / Double(timed.count)
    }

    /// The test's history, newest run first (at most `limit` runs). Throws
    /// ``ReportError/unknownTest(_:suggestions:)`` when no run holds it.
    public static func load(nodeid: String, from reader: some RunReader, limit: Int = 200) async throws
        -> TestHistory {
        let runs = try await reader.history(nodeid: nodeid, limit: limit)
        if runs.isEmpty {
            throw ReportError.unknownTest(nodeid, suggestions: try await reader.nodeIDs(containing: nodeid, limit: 3))
        }
        let entries = runs.map { run in
            Entry(run: run.run, runName: run.runName, runStatus: run.runStatus, started: run.started,
                  outcome: run.attempts.last?.outcome, attempts: run.attempts.count,
                  duration: run.attempts.last?.duration ?? 0, outcomes: run.attempts.map(\.outcome),
                  message: run.attempts.last?.message)
        }
        return TestHistory(nodeid: nodeid, entries: entries)
    }

    public var text: String {
        let t = Escape.terminal
        var out = ["\(t(nodeid)): \(entries.count) run\(entries.count == 1 ? "" : "s")"]
        out.append("   run  started                  outcome    attempts  seconds  note")
        for entry in entries {
            var note = entry.flaky ? "flaky (\(entry.outcomes.map(\.rawValue).joined(separator: " → ")))" : ""
            if entry.outcome?.isFailure == true, let message = Formatted.message(entry.message) {
                note = t(message.clipped(120))
            }
            out.append(String(entry.run).leftPadded(6) + "  " + Format.humanTime(entry.started).rightPadded(23)
                       + "  " + entry.status.rightPadded(9) + String(entry.attempts).leftPadded(10)
                       + String(format: "%.2f", entry.duration).leftPadded(9) + "  " + note)
        }
        func rate(_ value: Double?) -> String { value.map(Format.percent) ?? "-" }
        out.append("flaky rate \(rate(flakyRate)), failure rate \(rate(failureRate)), mean duration "
                   + (meanDuration.map(Format.seconds) ?? "-") + " over \(measured.count) run\(measured.count == 1 ? "" : "s") with a result")
        return out.joined(separator: "\n") + "\n"
    }

    public var json: String {
        let j = Escape.json
        let n = Escape.jsonNumber
        let runs = entries.map { entry in
            "{\"run\": \(entry.run), \"name\": \(entry.runName.map(j) ?? "null"), \"run_status\": \(j(entry.runStatus.rawValue)), "
                + "\"started\": \(n(entry.started)), \"outcome\": \(j(entry.status)), \"attempts\": \(entry.attempts), "
                + "\"outcomes\": [\(entry.outcomes.map { j($0.rawValue) }.joined(separator: ", "))], "
                + "\"duration\": \(n(entry.duration)), \"flaky\": \(entry.flaky), \"message\": \(entry.message.map(j) ?? "null")}"
        }
        return "{\n \"nodeid\": \(j(nodeid)),\n \"flaky_rate\": \(flakyRate.map(n) ?? "null"),\n"
            + " \"failure_rate\": \(failureRate.map(n) ?? "null"),\n"
            + " \"mean_duration\": \(meanDuration.map(n) ?? "null"),\n"
            + " \"runs\": [" + (runs.isEmpty ? "" : "\n  " + runs.joined(separator: ",\n  ") + "\n") + " ]\n}\n"
    }
}
