import Foundation
import Queue

/// `--format json`: one object, keys in a fixed order, documented in docs/queries.md.
/// Top-level keys one per line and every test and job on its own line, so the file
/// diffs and greps well and still parses as one JSON value.
extension RunReport {
    /// Bumped when a key changes meaning or disappears (new keys may appear any time).
    public static let jsonFormatVersion = 1

    func jsonReport(statuses: Set<String>?) -> String {
        let j = Escape.json
        let n = Escape.jsonNumber
        func optional(_ text: String?) -> String { text.map(j) ?? "null" }
        func optional(_ number: Double?) -> String { number.map(n) ?? "null" }
        func optional(_ number: Int64?) -> String { number.map(String.init) ?? "null" }
        let merged = sources.count > 1
        var out = "{\n"
        var first = true
        /// Appends one top-level `"key": value` line.
        func field(_ text: String) {
            out += first ? " " : ",\n "
            first = false
            out += text
        }
        field("\"format_version\": \(Self.jsonFormatVersion)")
        field("\"run\": \(run.id)")
        field("\"name\": \(optional(run.name))")
        field("\"status\": \(j(status))")
        field("\"run_status\": \(j(run.status.rawValue))")
        field("\"started\": \(optional(sources.compactMap(\.run.startedAt).min()))")
        field("\"finished\": \(optional(sources.compactMap(\.run.finishedAt).max()))")
        field("\"workers\": \(workerCount)")
        field("\"wall_seconds\": \(n(wallSeconds))")
        field("\"test_seconds\": \(n(testSeconds))")
        field("\"efficiency\": \(optional(efficiency))")
        let totals = self.totals
        field("\"totals\": {" + Self.totalNames.map { "\(j($0)): \(totals[$0, default: 0])" }
            .joined(separator: ", ") + "}")
        field("\"summary\": \(j(summary.line))")
        field("\"sources\": [" + sources.map { "{\"database\": \(j($0.path)), \"run\": \($0.run.id)}" }
            .joined(separator: ", ") + "]")

        let listed = statuses.map { tests(withStatus: $0) } ?? tests
        out.reserveCapacity(listed.count * 240 + jobs.count * 200 + 4_096)
        field("\"tests\": [")
        for (index, test) in listed.enumerated() {
            out += index == 0 ? "\n  {\"nodeid\": " : ",\n  {\"nodeid\": "
            out += j(test.nodeid)
            out += ", \"outcome\": \""
            out += test.status
            out += "\", \"attempts\": "
            out += String(test.attempts)
            out += ", \"duration\": "
            out += n(test.duration)
            out += ", \"worker\": "
            out += optional(test.worker)
            out += ", \"job\": "
            out += optional(test.job)
            out += test.flaky ? ", \"flaky\": true, \"message\": " : ", \"flaky\": false, \"message\": "
            out += optional(test.message)
            if let details = test.details, !details.isEmpty {
                out += ", \"details\": "
                out += j(Format.failureText(details))
            }
            if !test.captured.sections.isEmpty {
                out += ", \"sections\": "
                out += Self.jsonSections(test.captured.sections)
            }
            if let location = test.captured.skipLocation {
                out += ", \"skip_location\": "
                out += j(location)
            }
            if !test.earlierFailures.isEmpty {
                out += ", \"earlier_attempts\": ["
                out += test.earlierFailures.map { attempt in
                    var item = "{\"attempt\": \(attempt.attempt), \"outcome\": \(j(attempt.outcome.rawValue))"
                    item += ", \"duration\": \(n(attempt.duration)), \"message\": \(optional(attempt.message))"
                    item += ", \"details\": \(optional(attempt.details.map(Format.failureText)))"
                    if !attempt.captured.sections.isEmpty { item += ", \"sections\": " + Self.jsonSections(attempt.captured.sections) }
                    return item + "}"
                }.joined(separator: ", ")
                out += "]"
            }
            if merged { out += ", \"source\": \(test.source)" }
            out += "}"
        }
        out += listed.isEmpty ? "]" : "\n ]"

        let jobLines = jobs.map { job in
            var line = "{\"id\": \(job.id), \"group\": \(j(job.name)), \"worker\": \(optional(job.worker))"
            line += ", \"started\": \(optional(job.startedAt)), \"finished\": \(optional(job.finishedAt))"
            line += ", \"state\": \(j(job.state.rawValue)), \"attempts\": \(job.attempts)"
            line += ", \"error\": \(optional(job.error))"
            if merged { line += ", \"source\": \(job.source)" }
            return line + "}"
        }
        field("\"jobs\": [" + (jobLines.isEmpty ? "" : "\n  " + jobLines.joined(separator: ",\n  ") + "\n") + "]")

        field("\"worker_stats\": [" + workers.map { worker in
            "{\"id\": \(j(worker.id)), \"jobs\": \(worker.jobs), \"tests\": \(worker.tests), "
                + "\"busy_seconds\": \(n(worker.busySeconds)), \"test_seconds\": \(n(worker.testSeconds)), "
                + "\"alive_seconds\": \(n(worker.aliveSeconds)), \"idle_share\": \(n(worker.idleShare))}"
        }.joined(separator: ", ") + "]")
        field("\"collection_errors\": [" + collectionErrors.map {
            "{\"location\": \(j($0.location)), \"message\": \(j($0.message))}"
        }.joined(separator: ", ") + "]")
        field("\"order\": \(jsonOrder())")
        if let merge {
            let duplicates = merge.duplicates.map {
                "{\"nodeid\": \(j($0.nodeid)), \"sources\": [\($0.sources.map(String.init).joined(separator: ", "))]}"
            }
            field("\"merge\": {\"duplicates\": [\(duplicates.joined(separator: ", "))], "
                          + "\"missing\": [\(merge.missing.map(j).joined(separator: ", "))], "
                          + "\"missing_shards\": [\(merge.missingShards.map(String.init).joined(separator: ", "))], "
                          + "\"shard_count\": \(merge.shardCount.map(String.init) ?? "null")}")
        }
        out += "\n}\n"
        return out
    }

    /// `[{"title": "Captured stdout call", "text": "…"}, …]`
    static func jsonSections(_ sections: [Captured.Section]) -> String {
        "[" + sections.map { "{\"title\": \(Escape.json($0.title)), \"text\": \(Escape.json($0.text))}" }
            .joined(separator: ", ") + "]"
    }
}
