import Foundation
import Queue

/// `--format markdown`: a compact summary for CI pages (GitHub's job summary,
/// GitLab merge-request notes). Failures first, the rest folded.
extension RunReport {
    /// Rows of the failures table before it is cut.
    static let markdownFailureLimit = 50

    func markdownReport() -> String {
        let m = Escape.markdown
        let c = Escape.markdownCode
        let totals = self.totals
        let failing = summary.failures + summary.failedSubtests > 0 || status != "complete"
        var out: [String] = []
        let title = sources.count > 1 ? "arun: \(sources.count) shards merged" : "arun run \(run.id)"
        out.append("### \(failing ? "❌" : "✅") \(title) (\(status))")
        out.append("")
        out.append("**\(m(summary.line))** · \(workerCount) worker\(workerCount == 1 ? "" : "s")"
                   + (efficiency.map { " · efficiency \(Format.percent($0))" } ?? ""))
        out.append("")
        let shown = Self.totalNames.filter { totals[$0, default: 0] > 0 }
        if !shown.isEmpty {
            out.append("| " + shown.map { $0.replacingOccurrences(of: "_", with: " ") }.joined(separator: " | ") + " |")
            out.append("|" + String(repeating: " ---: |", count: shown.count))
            out.append("| " + shown.map { String(totals[$0, default: 0]) }.joined(separator: " | ") + " |")
            out.append("")
        }
        let failures = self.failures
        if !failures.isEmpty {
            out.append("#### Failures (\(failures.count))")
            out.append("")
            out.append("| test | outcome | message |")
            out.append("| --- | --- | --- |")
            for test in failures.prefix(Self.markdownFailureLimit) {
                let attempts = test.attempts > 1 ? " (attempt \(test.attempts))" : ""
                out.append("| \(c(test.nodeid)) | \(test.status)\(attempts) | \(m(Formatted.message(test.message) ?? "")) |")
            }
            if failures.count > Self.markdownFailureLimit {
                out.append("")
                out.append("… and \(failures.count - Self.markdownFailureLimit) more (`arun report` lists them all).")
            }
            out.append("")
        }
        if !collectionErrors.isEmpty {
            out.append("#### Collection errors (\(collectionErrors.count))")
            out.append("")
            for problem in collectionErrors.prefix(20) {
                out.append("- \(c(problem.location)): \(m(Formatted.message(problem.message) ?? ""))")
            }
            out.append("")
        }
        let flaky = flakyTests
        if !flaky.isEmpty {
            out.append("<details><summary>Flaky tests (\(flaky.count))</summary>")
            out.append("")
            for test in flaky.prefix(100) {
                out.append("- \(c(test.nodeid)): failed \(test.earlierFailures.count)×, passed on attempt \(test.attempts)")
            }
            out.append("")
            out.append("</details>")
            out.append("")
        }
        out += markdownOrder()
        if let merge, !merge.isEmpty {
            out.append("<details><summary>Merge problems</summary>")
            out.append("")
            if !merge.missingShards.isEmpty, let count = merge.shardCount {
                out.append("- shards missing: \(merge.missingShards.map(String.init).joined(separator: ", ")) of \(count)")
            }
            for duplicate in merge.duplicates.prefix(50) {
                out.append("- in \(duplicate.sources.count) shards: \(c(duplicate.nodeid))")
            }
            for nodeid in merge.missing.prefix(50) { out.append("- missing from every shard: \(c(nodeid))") }
            out.append("")
            out.append("</details>")
            out.append("")
        }
        let slowest = slowest(10)
        if !slowest.isEmpty {
            out.append("<details><summary>Slowest \(slowest.count) tests</summary>")
            out.append("")
            out.append("| seconds | test |")
            out.append("| ---: | --- |")
            for test in slowest { out.append("| \(String(format: "%.2f", test.duration)) | \(c(test.nodeid)) |") }
            out.append("")
            out.append("</details>")
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}
