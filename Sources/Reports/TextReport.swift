import Foundation
import Queue

/// `--format text`: for a terminal or a CI log.
extension RunReport {
    /// The report: pytest's ERRORS/FAILURES sections (full failure text in the run's `--tb`
    /// style, captured sections), arun's flaky, slowest and worker tables, pytest's short
    /// test summary for the run's `-r` characters, and the totals line. With `statuses`,
    /// a list of those tests instead of pytest's sections.
    func textReport(statuses: Set<String>?, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String {
        var out: [String] = []
        let t = Escape.terminal
        let pytest = PytestSections(self, environment: environment)
        if let statuses {
            let listed = tests(withStatus: statuses)
            out.append("TESTS (\(statuses.sorted().joined(separator: ", "))): \(listed.count)")
            for test in listed { out += textEntry(test, traceback: test.failing) }
        } else {
            let blocks = pytest.blocks()
            if !blocks.isEmpty { out += blocks.map(t) + [""] }
            let flaky = flakyTests
            if !flaky.isEmpty {
                out.append("FLAKY (\(flaky.count)): failed, then passed on a later attempt")
                for test in flaky {
                    let failed = test.earlierFailures.map { "\($0.outcome.rawValue) on attempt \($0.attempt)" }
                    out.append("  \(t(test.nodeid)) (\(failed.joined(separator: ", ")); passed on attempt \(test.attempts))")
                    if let message = Formatted.message(test.earlierFailures.last?.message) {
                        out.append("    \(t(message))")
                    }
                }
                out.append("")
            }
            out += textOrder()
        }
        // Without --tb=no they are in pytest's ERRORS section above.
        if statuses != nil || pytest.options.tracebackStyle == "no", !collectionErrors.isEmpty {
            out.append("COLLECTION ERRORS (\(collectionErrors.count))")
            out += CollectionErrorText.blocks(collectionErrors).map { "  " + $0 }
            out.append("")
        }
        if let merge, !merge.isEmpty { out += textMerge(merge) }
        let slowest = slowest(10)
        if !slowest.isEmpty {
            out.append("SLOWEST \(slowest.count)")
            for test in slowest {
                out.append("  " + Format.seconds(test.duration).leftPadded(8) + "  \(t(test.nodeid))")
            }
            out.append("")
        }
        if !workers.isEmpty {
            out.append("WORKERS")
            let width = max(6, workers.map(\.id.count).max() ?? 6)
            out.append("  " + "worker".rightPadded(width) + "   jobs  tests    busy   tests s   idle")
            for worker in workers {
                out.append("  " + t(worker.id).rightPadded(width)
                           + String(worker.jobs).leftPadded(7) + String(worker.tests).leftPadded(7)
                           + Format.seconds(worker.busySeconds).leftPadded(8)
                           + Format.seconds(worker.testSeconds).leftPadded(10)
                           + Format.percent(worker.idleShare).leftPadded(7))
            }
            // Without this line "idle" read as the opposite of the efficiency below, which
            // counts from the first job: a 2-second run showed 40 % idle and 95 % efficiency.
            out.append("  (idle: share of the worker's life outside jobs, pytest start-up and exit included)")
            out.append("")
        }
        if statuses == nil { out += pytest.shortSummary().map(t) }
        var timing = "wall \(Format.seconds(wallSeconds)), \(workerCount) worker\(workerCount == 1 ? "" : "s")"
        timing += ", tests \(Format.seconds(testSeconds))"
        if let efficiency {
            timing += ", efficiency \(Format.percent(efficiency)) (test time / (workers × wall))"
        }
        out.append(timing)
        out.append(headline)
        return out.joined(separator: "\n") + "\n"
    }

    /// `run 3 (complete): 1 failed, 10 passed in 4.20s`, or the merged form.
    public var headline: String {
        if sources.count > 1 {
            let runs = sources.map { "\(($0.path as NSString).lastPathComponent)#\($0.run.id)" }
            return "merged \(sources.count) shards (\(runs.joined(separator: ", "))) (\(status)): \(summary.line)"
        }
        return "run \(run.id)\(run.name.map { " \"\(Escape.terminal($0))\"" } ?? "") (\(status)): \(summary.line)"
    }

    func textEntry(_ test: TestRecord, traceback: Bool) -> [String] {
        let t = Escape.terminal
        var facts: [String] = []
        if test.attempts > 1 { facts.append("attempt \(test.attempts)") }
        if let worker = test.worker { facts.append(t(worker)) }
        if test.outcome != nil { facts.append(Format.seconds(test.duration)) }
        var lines = ["  \(test.status.uppercased()) \(t(test.nodeid))"
                     + (facts.isEmpty ? "" : " (\(facts.joined(separator: ", ")))")]
        if let message = Formatted.message(test.message) { lines.append("    \(t(message))") }
        if traceback, let details = test.details, !details.isEmpty {
            lines += details.split(separator: "\n", omittingEmptySubsequences: false).map { "    | " + t(String($0)) }
        }
        return lines
    }

    func textMerge(_ merge: MergeProblems) -> [String] {
        var out: [String] = ["MERGE PROBLEMS"]
        let t = Escape.terminal
        if !merge.missingShards.isEmpty, let count = merge.shardCount {
            out.append("  shards missing: \(merge.missingShards.map(String.init).joined(separator: ", ")) of \(count)")
        }
        if !merge.duplicates.isEmpty {
            out.append("  in two or more shards (\(merge.duplicates.count)):")
            for duplicate in merge.duplicates.prefix(100) {
                let names = duplicate.sources.map { (sources[$0].path as NSString).lastPathComponent }
                out.append("    \(t(duplicate.nodeid)) (\(names.joined(separator: ", ")))")
            }
        }
        if !merge.missing.isEmpty {
            out.append("  missing from every shard (\(merge.missing.count)):")
            for nodeid in merge.missing.prefix(100) { out.append("    \(t(nodeid))") }
        }
        out.append("")
        return out
    }
}

enum Formatted {
    /// A message shown on one line, at most 300 characters.
    static func message(_ text: String?) -> String? {
        Format.firstLine(text).map { $0.clipped(300) }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
    func rightPadded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
