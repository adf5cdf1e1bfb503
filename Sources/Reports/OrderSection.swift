import Foundation
import Queue

/// The "order-dependent tests" section of every format: tests whose final outcome differs
/// from an earlier run of the same plan, each with both runs' attempts and what its pytest
/// process ran before it. A test whose process ran the same tests before it in both runs
/// is called flaky between runs instead: order cannot explain it. Nothing is shown when
/// there is no earlier run of the same plan or nothing differs.
extension RunReport {
    /// Tests listed per group before the list is cut (text, markdown, HTML; JSON has all).
    static let orderListLimit = 200

    /// "compared with run 3, the latest earlier run of the same plan".
    func orderComparedWith(_ order: OrderComparison) -> String {
        "compared with run \(order.comparedRun)" + (orderExplicit ? "" : ", the latest earlier run of the same plan")
    }

    /// `run 4: failed on w1, after 3 tests in its process (files: tests/a.py; just before: tests/a.py::t)`.
    static func describe(_ place: ProcessPlace) -> String {
        var text = "run \(place.run): \(place.outcome.rawValue)"
        if place.attempt > 1 { text += " on attempt \(place.attempt)" }
        if let worker = place.worker { text += " on \(worker)" }
        guard place.testsBefore > 0 else { return text + ", first in its process" }
        text += ", after \(place.testsBefore) test\(place.testsBefore == 1 ? "" : "s") in its process"
        let files = place.filesBefore.suffix(5)
        var facts = ["files: " + (place.filesBefore.count > files.count ? "…, " : "") + files.joined(separator: ", ")]
        if let previous = place.previous { facts.append("just before: \(previous)") }
        return text + " (\(facts.joined(separator: "; ")))"
    }

    func textOrder() -> [String] {
        guard let order, !order.differences.isEmpty else { return [] }
        let t = Escape.terminal
        var out: [String] = []
        let groups = [
            (order.orderDependent, "ORDER-DEPENDENT", "its process ran other tests before it in the two runs"),
            (order.flakyBetweenRuns, "FLAKY BETWEEN RUNS", "the same tests ran before it in its process in both runs"),
        ]
        for (tests, title, why) in groups where !tests.isEmpty {
            out.append("\(title) (\(tests.count)): outcome differs, \(orderComparedWith(order)); \(why)")
            for test in tests.prefix(Self.orderListLimit) {
                out.append("  \(t(test.nodeid))")
                out.append("    \(t(Self.describe(test.current)))")
                out.append("    \(t(Self.describe(test.earlier)))")
            }
            if tests.count > Self.orderListLimit {
                out.append("  … and \(tests.count - Self.orderListLimit) more (`arun report --format json` lists them all)")
            }
            out.append("")
        }
        return out
    }

    func markdownOrder() -> [String] {
        guard let order, !order.differences.isEmpty else { return [] }
        let m = Escape.markdown
        let c = Escape.markdownCode
        var out = ["<details><summary>Order-dependent tests (\(order.orderDependent.count) order-dependent, "
                   + "\(order.flakyBetweenRuns.count) flaky between runs; \(m(orderComparedWith(order))))</summary>", ""]
        out.append("| test | verdict | run \(order.run) | run \(order.comparedRun) |")
        out.append("| --- | --- | --- | --- |")
        for test in order.differences.prefix(Self.orderListLimit) {
            let verdict = test.dependsOnOrder ? "order-dependent" : "flaky between runs"
            out.append("| \(c(test.nodeid)) | \(verdict) | \(m(Self.describe(test.current))) | \(m(Self.describe(test.earlier))) |")
        }
        if order.differences.count > Self.orderListLimit {
            out.append("")
            out.append("… and \(order.differences.count - Self.orderListLimit) more (`arun report` lists them all).")
        }
        out += ["", "</details>", ""]
        return out
    }

    /// `"order": null`, or the compared run and every differing test with both attempts.
    func jsonOrder() -> String {
        guard let order else { return "null" }
        let j = Escape.json
        func place(_ place: ProcessPlace) -> String {
            var item = "{\"run\": \(place.run), \"attempt\": \(place.attempt), \"outcome\": \(j(place.outcome.rawValue))"
            item += ", \"worker\": \(place.worker.map(j) ?? "null"), \"tests_before\": \(place.testsBefore)"
            item += ", \"files_before\": [\(place.filesBefore.map(j).joined(separator: ", "))]"
            return item + ", \"previous\": \(place.previous.map(j) ?? "null")}"
        }
        let tests = order.differences.map { test in
            "{\"nodeid\": \(j(test.nodeid)), \"order_dependent\": \(test.dependsOnOrder), "
                + "\"attempts\": [\(place(test.current)), \(place(test.earlier))]}"
        }
        return "{\"compared_run\": \(order.comparedRun), \"same_plan\": \(!orderExplicit), \"tests\": ["
            + (tests.isEmpty ? "" : "\n  " + tests.joined(separator: ",\n  ") + "\n ") + "]}"
    }

    func htmlOrder() -> String {
        guard let order, !order.differences.isEmpty else { return "" }
        let h = Escape.html
        var out = "<h2>Order-dependent tests (\(order.differences.count))</h2>\n"
        out += "<p class=\"legend\">Outcome differs, \(h(orderComparedWith(order))). Order-dependent: its process "
        out += "ran other tests before it in the two runs; flaky between runs: the same tests.</p>\n"
        out += "<table class=\"plain\" id=\"order\"><thead><tr><th>test</th><th>verdict</th>"
        out += "<th>run \(order.run)</th><th>run \(order.comparedRun)</th></tr></thead><tbody>\n"
        for test in order.differences.prefix(Self.orderListLimit) {
            out += "<tr><td><code>\(h(test.nodeid))</code></td>"
            out += "<td>\(test.dependsOnOrder ? "order-dependent" : "flaky between runs")</td>"
            out += "<td>\(h(Self.describe(test.current)))</td><td>\(h(Self.describe(test.earlier)))</td></tr>\n"
        }
        out += "</tbody></table>\n"
        if order.differences.count > Self.orderListLimit {
            out += "<p class=\"none\">\(order.differences.count - Self.orderListLimit) more: <code>arun report --format json</code> lists them all.</p>\n"
        }
        return out
    }
}
