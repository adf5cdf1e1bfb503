import Foundation
import Queue

/// `--format html`: one self-contained page (inline CSS and JS, no network: the page's
/// Content-Security-Policy forbids any fetch). Totals, a filterable failures table,
/// flaky and slowest tests, workers, and a timeline SVG of every worker's jobs.
///
/// Every string from tests is HTML-escaped; the script reads the page's text, never
/// data spliced into script source.
extension RunReport {
    /// Failure rows the page holds before it is cut (a page stays openable).
    static let htmlFailureLimit = 5_000
    /// Job bars the timeline draws before it is cut.
    static let htmlTimelineLimit = 20_000

    func htmlReport(now: Date) -> String {
        let h = Escape.html
        let totals = self.totals
        let title = sources.count > 1 ? "arun: \(sources.count) shards merged" : "arun run \(run.id)"
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(h(title)): \(h(summary.line))</title>
            <style>\(Self.css)</style>
            </head>
            <body>
            <header>
            <h1>\(h(title)) <span class="status \(h(status))">\(h(status))</span></h1>
            <p class="line">\(h(summary.line))</p>
            <p class="meta">\(h(metaLine))</p>
            </header>

            """
        out += "<section class=\"cards\">\n"
        for name in Self.totalNames where totals[name, default: 0] > 0 || ["passed", "failed"].contains(name) {
            out += "<div class=\"card \(name)\"><b>\(totals[name, default: 0])</b><span>\(name.replacingOccurrences(of: "_", with: " "))</span></div>\n"
        }
        out += "</section>\n"
        out += timelineSection()
        out += failuresSection()
        out += flakySection()
        if let merge, !merge.isEmpty { out += mergeSection(merge) }
        if !collectionErrors.isEmpty {
            out += "<h2>Collection errors (\(collectionErrors.count))</h2>\n<table><tbody>\n"
            for problem in collectionErrors {
                out += "<tr><td><code>\(h(problem.location))</code></td><td><pre>\(h(problem.message))</pre></td></tr>\n"
            }
            out += "</tbody></table>\n"
        }
        out += slowestSection()
        out += workersSection()
        out += "<footer>Written by arun on \(h(Format.humanTime(now.timeIntervalSince1970))) from "
        out += sources.map { "\(h($0.path)) (run \($0.run.id))" }.joined(separator: ", ")
        out += ".</footer>\n<script>\(Self.script)</script>\n</body>\n</html>\n"
        return out
    }

    var metaLine: String {
        var parts = ["started \(Format.humanTime(sources.compactMap(\.run.startedAt).min()))",
                     "wall \(Format.seconds(wallSeconds))",
                     "\(workerCount) worker\(workerCount == 1 ? "" : "s")",
                     "test time \(Format.seconds(testSeconds))"]
        if let efficiency { parts.append("efficiency \(Format.percent(efficiency))") }
        return parts.joined(separator: " · ")
    }

    func failuresSection() -> String {
        let h = Escape.html
        let failures = self.failures
        guard !failures.isEmpty else { return "<h2>Failures</h2>\n<p class=\"none\">No failures.</p>\n" }
        let shown = failures.prefix(Self.htmlFailureLimit)
        var out = "<h2>Failures (\(failures.count))</h2>\n"
        out += "<p><input id=\"filter\" type=\"search\" placeholder=\"Filter failures by test, message or traceback\" "
        out += "autocomplete=\"off\" aria-label=\"Filter failures\"> <span id=\"shown\">\(shown.count)</span> shown</p>\n"
        out += "<table id=\"failures\"><thead><tr><th>outcome</th><th>test</th><th>worker</th><th>seconds</th></tr></thead><tbody>\n"
        for test in shown {
            out += "<tr><td class=\"outcome \(test.status)\">\(test.status)"
            if test.attempts > 1 { out += "<br><small>attempt \(test.attempts)</small>" }
            out += "</td><td><code>\(h(test.nodeid))</code>"
            if let message = test.message, !message.isEmpty { out += "<div class=\"message\">\(h(message))</div>" }
            if let details = test.details, !details.isEmpty {
                out += "<details><summary>traceback</summary><pre>\(h(details))</pre></details>"
            }
            out += "</td><td>\(h(test.worker ?? "-"))</td><td class=\"num\">\(String(format: "%.2f", test.duration))</td></tr>\n"
        }
        out += "</tbody></table>\n"
        if failures.count > shown.count {
            out += "<p class=\"none\">\(failures.count - shown.count) more failures are not shown: see <code>arun report</code>.</p>\n"
        }
        return out
    }

    func flakySection() -> String {
        let h = Escape.html
        let flaky = flakyTests
        guard !flaky.isEmpty else { return "" }
        var out = "<h2>Flaky (\(flaky.count))</h2>\n<table><thead><tr><th>test</th><th>earlier failures</th></tr></thead><tbody>\n"
        for test in flaky.prefix(Self.htmlFailureLimit) {
            out += "<tr><td><code>\(h(test.nodeid))</code><br><small>passed on attempt \(test.attempts)</small></td><td>"
            for attempt in test.earlierFailures {
                out += "<details><summary>attempt \(attempt.attempt): \(h(attempt.outcome.rawValue))"
                if let message = Format.firstLine(attempt.message) { out += " — \(h(message.clipped(200)))" }
                out += "</summary><pre>\(h(attempt.details ?? attempt.message ?? ""))</pre></details>"
            }
            out += "</td></tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    func mergeSection(_ merge: MergeProblems) -> String {
        let h = Escape.html
        var out = "<h2>Merge problems</h2>\n<ul class=\"problems\">\n"
        if !merge.missingShards.isEmpty, let count = merge.shardCount {
            out += "<li>shards missing: \(merge.missingShards.map(String.init).joined(separator: ", ")) of \(count)</li>\n"
        }
        for duplicate in merge.duplicates.prefix(500) {
            let names = duplicate.sources.map { h(sources[$0].path) }.joined(separator: ", ")
            out += "<li>in two or more shards: <code>\(h(duplicate.nodeid))</code> (\(names))</li>\n"
        }
        for nodeid in merge.missing.prefix(500) { out += "<li>missing from every shard: <code>\(h(nodeid))</code></li>\n" }
        return out + "</ul>\n"
    }

    func slowestSection() -> String {
        let h = Escape.html
        let slowest = slowest(10)
        guard !slowest.isEmpty else { return "" }
        var out = "<h2>Slowest \(slowest.count)</h2>\n<table><thead><tr><th>seconds</th><th>test</th><th>outcome</th></tr></thead><tbody>\n"
        for test in slowest {
            out += "<tr><td class=\"num\">\(String(format: "%.2f", test.duration))</td><td><code>\(h(test.nodeid))</code></td>"
            out += "<td class=\"outcome \(test.status)\">\(test.status)</td></tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    func workersSection() -> String {
        let h = Escape.html
        guard !workers.isEmpty else { return "" }
        var out = "<h2>Workers</h2>\n<table><thead><tr><th>worker</th><th>jobs</th><th>tests</th><th>busy s</th>"
        out += "<th>test s</th><th>idle</th></tr></thead><tbody>\n"
        for worker in workers {
            out += "<tr><td><code>\(h(worker.id))</code></td><td class=\"num\">\(worker.jobs)</td><td class=\"num\">\(worker.tests)</td>"
            out += "<td class=\"num\">\(String(format: "%.1f", worker.busySeconds))</td>"
            out += "<td class=\"num\">\(String(format: "%.1f", worker.testSeconds))</td>"
            out += "<td class=\"num\">\(Format.percent(worker.idleShare))</td></tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    /// One lane per worker, one bar per job from its claim to its completion.
    func timelineSection() -> String {
        let h = Escape.html
        let timed = jobs.filter { $0.worker != nil && $0.startedAt != nil }.prefix(Self.htmlTimelineLimit)
        guard let start = timed.compactMap(\.startedAt).min() else {
            return "<h2>Timeline</h2>\n<p class=\"none\">No job has started yet.</p>\n"
        }
        let end = max(timed.compactMap { $0.finishedAt ?? $0.startedAt }.max() ?? start, start)
        let span = max(end - start, 0.001)
        let lanes = Array(Set(timed.compactMap(\.worker))).sorted { $0.localizedStandardCompare($1) == .orderedAscending }
        let laneIndex = Dictionary(uniqueKeysWithValues: lanes.enumerated().map { ($1, $0) })
        // Jobs whose final results include a failure are drawn red.
        var failing = Set<String>()
        for test in tests where test.failing { if let job = test.job { failing.insert("\(test.source):\(job)") } }
        let label = 200.0, width = 1000.0, laneHeight = 22.0, top = 20.0
        let plot = width - label - 40  // room for the last tick label
        let height = top + Double(lanes.count) * laneHeight + 10
        var svg = "<svg class=\"timeline\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" "
        svg += "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"jobs per worker over time\">\n"
        for tick in 0...5 {
            let x = label + plot * Double(tick) / 5
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top - 4))\" x2=\"\(f(x))\" y2=\"\(f(height - 10))\" class=\"tick\"/>"
            svg += "<text x=\"\(f(x))\" y=\"12\" class=\"axis\">\(h(Format.seconds(span * Double(tick) / 5)))</text>\n"
        }
        for (index, lane) in lanes.enumerated() {
            let y = top + Double(index) * laneHeight
            svg += "<text x=\"\(f(label - 6))\" y=\"\(f(y + 15))\" class=\"lane\">\(h(lane.clipped(32)))<title>\(h(lane))</title></text>\n"
        }
        for job in timed {
            guard let worker = job.worker, let lane = laneIndex[worker], let started = job.startedAt else { continue }
            let finished = job.finishedAt ?? end
            let x = label + (started - start) / span * plot
            let w = max(1, (finished - started) / span * plot)
            let y = top + Double(lane) * laneHeight + 3
            let kind: String
            switch job.state {
            case .done: kind = failing.contains("\(job.source):\(job.id)") ? "bad" : "ok"
            case .failed, .dead: kind = "dead"
            case .running, .queued: kind = "open"
            case .cancelled: kind = "cancelled"
            }
            let tip = "\(job.name) · \(worker) · \(Format.seconds(finished - started)) · \(job.state.rawValue)"
            svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(laneHeight - 6))\" class=\"\(kind)\">"
            svg += "<title>\(h(tip))</title></rect>\n"
        }
        svg += "</svg>\n"
        var out = "<h2>Timeline</h2>\n" + svg
        out += "<p class=\"legend\"><span class=\"ok\"></span>job passed <span class=\"bad\"></span>job with failures "
        out += "<span class=\"dead\"></span>job failed or dead <span class=\"open\"></span>unfinished</p>\n"
        return out
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static let css = """
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1b1f24;background:#fff}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        .line{font-size:16px;margin:4px 0}.meta,.none,footer,.legend{color:#57606a}footer{margin-top:32px;font-size:12px}
        .status{font-size:13px;padding:2px 8px;border-radius:10px;vertical-align:middle;background:#eee}
        .status.complete{background:#dafbe1}.status.interrupted{background:#ffebe9}.status.incomplete{background:#fff8c5}
        .cards{display:flex;flex-wrap:wrap;gap:8px;margin:16px 0}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:70px}
        .card b{display:block;font-size:20px}.card.failed b,.card.error b,.card.crashed b,.card.timeout b{color:#cf222e}
        .card.passed b{color:#1a7f37}.card.flaky b{color:#9a6700}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eee;vertical-align:top}
        td.num{text-align:right;font-variant-numeric:tabular-nums}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
        pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:8px;overflow:auto;max-height:420px;white-space:pre-wrap;word-break:break-all}
        .message{color:#cf222e;margin-top:2px;white-space:pre-wrap;word-break:break-word}
        .outcome{font-weight:600;text-transform:uppercase;font-size:12px}.outcome.failed,.outcome.error,.outcome.crashed,.outcome.timeout{color:#cf222e}
        .outcome.passed{color:#1a7f37}#filter{width:420px;max-width:100%;padding:6px 8px;font-size:14px}
        svg.timeline{border:1px solid #eee;background:#fcfcfd}svg .tick{stroke:#eee}svg .axis{font-size:10px;fill:#57606a;text-anchor:middle}
        svg .lane{font-size:11px;fill:#1b1f24;text-anchor:end}svg rect.ok{fill:#2da44e}svg rect.bad{fill:#cf222e}
        svg rect.dead{fill:#6e1c1c}svg rect.open{fill:#bf8700}svg rect.cancelled{fill:#8c959f}svg rect:hover{opacity:.7}
        .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}.legend .ok{background:#2da44e}
        .legend .bad{background:#cf222e}.legend .dead{background:#6e1c1c}.legend .open{background:#bf8700}
        """

    /// Filters the failures table by the text box: rows whose text contains every word.
    static let script = """
        (function () {
          var box = document.getElementById("filter");
          if (!box) return;
          var rows = Array.prototype.slice.call(document.querySelectorAll("#failures tbody tr"));
          var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
          var shown = document.getElementById("shown");
          box.addEventListener("input", function () {
            var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
            var count = 0;
            rows.forEach(function (row, i) {
              var hit = words.every(function (w) { return texts[i].indexOf(w) >= 0; });
              row.hidden = !hit;
              if (hit) count++;
            });
            shown.textContent = String(count);
          });
        })();
        """
}
