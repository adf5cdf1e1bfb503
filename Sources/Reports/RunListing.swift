import Foundation
import Queue

/// `arun runs`: one line per run, newest first.
public enum RunListing {
    /// `--json`: one JSON object per line (JSON Lines), documented in docs/queries.md.
    public static func jsonLine(_ summary: RunSummary) -> String {
        let j = Escape.json
        let n = Escape.jsonNumber
        let run = summary.run
        var totals: [String] = []
        for outcome in Outcome.allCases { totals.append("\(j(outcome.rawValue)): \(summary[outcome])") }
        totals.append("\"flaky\": \(summary.flaky)")
        totals.append("\"pending\": \(summary.pending)")
        return "{\"run\": \(run.id), \"name\": \(run.name.map(j) ?? "null"), \"status\": \(j(summary.status)), "
            + "\"run_status\": \(j(run.status.rawValue)), \"created\": \(n(run.createdAt)), "
            + "\"started\": \(run.startedAt.map(n) ?? "null"), \"finished\": \(run.finishedAt.map(n) ?? "null"), "
            + "\"wall_seconds\": \(n(summary.wallSeconds)), \"tests\": \(summary.tests), "
            + "\"failures\": \(summary.failures), \"flaky\": \(summary.flaky), "
            + "\"collection_errors\": \(summary.collectionErrors), "
            + "\"totals\": {\(totals.joined(separator: ", "))}, \"summary\": \(j(summary.line))}"
    }

    /// `3  complete      2024-05-01 12:00:00 UTC    4.20s  1 failed, 10 passed in 4.20s  nightly`
    public static func textLine(_ summary: RunSummary) -> String {
        let run = summary.run
        return String(run.id).leftPadded(5) + "  " + summary.status.rightPadded(12)
            + Format.humanTime(run.startedAt ?? run.createdAt).rightPadded(24)
            + Format.seconds(summary.wallSeconds).leftPadded(9) + "  " + summary.line
            + (run.name.map { "  " + Escape.terminal($0) } ?? "")
    }

    public static let textHeader = "  run  status      started                      wall  totals"
}

extension RunSummary {
    /// `complete` (ended, every test has a result), `interrupted` (stopped or cancelled),
    /// or `incomplete` (planned, running, or tests without results).
    public var status: String {
        switch run.status {
        case .interrupted, .cancelled: "interrupted"
        case .complete: pending == 0 ? "complete" : "incomplete"
        case .planned, .running: "incomplete"
        }
    }
}
