import Foundation
import Queue

/// `--format html`: one self-contained page (inline CSS and JS, no network: the page's
/// Content-Security-Policy forbids any fetch; no absolute path). Totals, every test in one
/// table with outcome filter chips, search and sorting, expandable details (failure text,
/// captured sections, skip and xfail reasons, earlier attempts), flaky tests, a timeline of
/// every worker's jobs, the slowest tests and the workers.
///
/// The tests travel as JSON in a `<script type="application/json">` block (every `<` in it
/// written as `\u003c`, so no test text can close the block) and the page's script renders
/// rows on demand, a few hundred at a time: a page of 200,000 tests opens in seconds.
/// Every string from tests reaches the DOM as text, never as markup.
extension RunReport {
    /// Flaky tests listed with each attempt before the list is cut (the table has them all).
    static let htmlFlakyLimit = 2_000
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
            <style>\(HTMLAssets.css)</style>
            </head>
            <body>
            <header>
            <h1>\(h(title)) <span class="status \(h(status))">\(h(status))</span></h1>
            <p class="line" id="summary">\(h(summary.line))</p>
            <p class="meta">\(h(metaLine))</p>
            </header>

            """
        out += "<section class=\"cards\">\n"
        for name in Self.totalNames where totals[name, default: 0] > 0 || ["passed", "failed"].contains(name) {
            out += "<div class=\"card \(name)\"><b>\(totals[name, default: 0])</b><span>\(name.replacingOccurrences(of: "_", with: " "))</span></div>\n"
        }
        out += "</section>\n"
        out += testsSection(totals: totals)
        out += flakySection()
        out += htmlOrder()
        out += timelineSection()
        if let merge, !merge.isEmpty { out += mergeSection(merge) }
        if !collectionErrors.isEmpty {
            out += "<h2>Collection errors (\(collectionErrors.count))</h2>\n<table class=\"plain\"><tbody>\n"
            for problem in collectionErrors {
                out += "<tr><td><code>\(h(problem.location))</code><pre>\(h(problem.message))</pre></td></tr>\n"
            }
            out += "</tbody></table>\n"
        }
        out += slowestSection()
        out += workersSection()
        // File names only: the page may be published, and a path says nothing to its readers.
        out += "<footer>Written by arun on \(h(Format.humanTime(now.timeIntervalSince1970))) from "
        out += sources.map { "\(h(($0.path as NSString).lastPathComponent)) (run \($0.run.id))" }.joined(separator: ", ")
        out += ".</footer>\n"
        out += "<script type=\"application/json\" id=\"arun-data\">"
        out += htmlTestData()
        out += "</script>\n<script>\(HTMLAssets.script)</script>\n</body>\n</html>\n"
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

    /// The chips, the search box, the sort buttons and an empty table the script fills.
    func testsSection(totals: [String: Int]) -> String {
        var out = "<h2 id=\"tests-title\">Tests (\(tests.count))</h2>\n<div id=\"chips\" class=\"chips\" role=\"group\" aria-label=\"Outcome filter\">\n"
        out += "<button type=\"button\" data-outcome=\"all\" aria-pressed=\"true\">all <b>\(tests.count)</b></button>\n"
        for name in Self.totalNames where totals[name, default: 0] > 0 && name != "warnings" {
            out += "<button type=\"button\" class=\"\(name)\" data-outcome=\"\(name)\" aria-pressed=\"false\">"
            out += "\(name.replacingOccurrences(of: "_", with: " ")) <b>\(totals[name, default: 0])</b></button>\n"
        }
        out += "</div>\n"
        out += "<p class=\"tools\"><input id=\"search\" type=\"search\" placeholder=\"Search ids, messages, tracebacks\" "
        out += "autocomplete=\"off\" aria-label=\"Search tests\"> <span class=\"count\"><b id=\"shown\">0</b> shown</span></p>\n"
        out += "<table id=\"tests\"><thead><tr>"
        out += "<th><button type=\"button\" data-sort=\"outcome\">outcome</button></th>"
        out += "<th><button type=\"button\" data-sort=\"name\" class=\"active\">test</button></th>"
        out += "<th class=\"num\"><button type=\"button\" data-sort=\"duration\">seconds</button></th>"
        out += "<th class=\"worker\">worker</th></tr></thead><tbody></tbody></table>\n"
        out += "<p><button type=\"button\" id=\"more\" hidden>Show more</button></p>\n"
        out += "<noscript><p class=\"none\">The test table needs JavaScript; <code>arun report</code> prints the same.</p></noscript>\n"
        return out
    }

    func flakySection() -> String {
        let h = Escape.html
        let flaky = flakyTests
        guard !flaky.isEmpty else { return "" }
        var out = "<h2>Flaky (\(flaky.count))</h2>\n<table class=\"plain\" id=\"flaky\"><thead><tr><th>test</th><th>attempts</th></tr></thead><tbody>\n"
        for test in flaky.prefix(Self.htmlFlakyLimit) {
            out += "<tr><td><code>\(h(test.nodeid))</code><br><small>passed on attempt \(test.attempts)</small></td><td>"
            for attempt in test.earlierFailures {
                out += "<details><summary>attempt \(attempt.attempt): \(h(attempt.outcome.rawValue))"
                if let worker = attempt.worker { out += " on \(h(worker))" }
                if let message = Format.firstLine(attempt.message) { out += " — \(h(message.clipped(200)))" }
                out += "</summary><pre>\(h(attempt.details ?? attempt.message ?? ""))</pre>"
                for section in attempt.captured.sections {
                    out += "<h4>\(h(section.title))</h4><pre>\(h(section.text))</pre>"
                }
                out += "</details>"
            }
            out += "<div>attempt \(test.attempts): passed\(test.worker.map { " on \(h($0))" } ?? "") in \(Format.seconds(test.duration))</div>"
            out += "</td></tr>\n"
        }
        out += "</tbody></table>\n"
        if flaky.count > Self.htmlFlakyLimit {
            out += "<p class=\"none\">\(flaky.count - Self.htmlFlakyLimit) more flaky tests: pick the flaky chip above.</p>\n"
        }
        return out
    }

    func mergeSection(_ merge: MergeProblems) -> String {
        let h = Escape.html
        let name = { (index: Int) in h((self.sources[index].path as NSString).lastPathComponent) }
        var out = "<h2>Merge problems</h2>\n<ul class=\"problems\">\n"
        if !merge.missingShards.isEmpty, let count = merge.shardCount {
            out += "<li>shards missing: \(merge.missingShards.map(String.init).joined(separator: ", ")) of \(count)</li>\n"
        }
        for duplicate in merge.duplicates.prefix(500) {
            out += "<li>in two or more shards: <code>\(h(duplicate.nodeid))</code> (\(duplicate.sources.map(name).joined(separator: ", ")))</li>\n"
        }
        for nodeid in merge.missing.prefix(500) { out += "<li>missing from every shard: <code>\(h(nodeid))</code></li>\n" }
        return out + "</ul>\n"
    }

    func slowestSection() -> String {
        let h = Escape.html
        let slowest = slowest(10)
        guard !slowest.isEmpty else { return "" }
        var out = "<h2>Slowest \(slowest.count)</h2>\n<table class=\"plain\" id=\"slowest\"><thead><tr><th class=\"num\">seconds</th><th>test</th><th>outcome</th></tr></thead><tbody>\n"
        for test in slowest {
            out += "<tr><td class=\"num\">\(String(format: "%.2f", test.duration))</td><td><code>\(h(test.nodeid))</code></td>"
            out += "<td class=\"outcome \(test.status)\">\(test.status)</td></tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    func workersSection() -> String {
        let h = Escape.html
        guard !workers.isEmpty else { return "" }
        var out = "<h2>Workers</h2>\n<table class=\"plain\" id=\"workers\"><thead><tr><th>worker</th><th class=\"num\">jobs</th><th class=\"num\">tests</th><th class=\"num\">busy s</th>"
        out += "<th class=\"num\">test s</th><th class=\"num\">idle</th></tr></thead><tbody>\n"
        for worker in workers {
            out += "<tr><td><code>\(h(worker.id))</code></td><td class=\"num\">\(worker.jobs)</td><td class=\"num\">\(worker.tests)</td>"
            out += "<td class=\"num\">\(String(format: "%.1f", worker.busySeconds))</td>"
            out += "<td class=\"num\">\(String(format: "%.1f", worker.testSeconds))</td>"
            out += "<td class=\"num\">\(Format.percent(worker.idleShare))</td></tr>\n"
        }
        return out + "</tbody></table>\n<p class=\"legend\">idle: share of the worker's life outside jobs, pytest start-up and exit included.</p>\n"
    }
}
