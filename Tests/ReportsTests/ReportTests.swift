import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GRDB
@testable import Queue
import Reports
import TestSupport
import Testing

/// Reports on runs written through the queue's own API, in every format.
@Suite struct ReportTests {
    @Test func summaryCountsFinalAttemptsAndFlakyTests() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let summary = try await RunSummary.load(run: writer.run.id, from: queue)
        #expect(summary.flaky == 1)
        #expect(summary[.passed] == 2, "test_pass and the flaky test, once each")
        #expect(summary[.failed] == 3, "test_fail, test_still_failing (counted once), test_param")
        #expect(summary[.error] == 1 && summary[.crashed] == 1 && summary[.timeout] == 1 && summary[.notRun] == 1)
        #expect(summary.line.contains("2 passed, 1 flaky"), "\(summary.line)")
        #expect(summary.pending == 0)
        #expect(summary.exitCode(interrupted: false) == 1)
        #expect(summary.status == "complete")
    }

    @Test func flakyAloneExitsZeroUnlessAsked() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, clock) = try RunWriter.open(folder.file("flaky.db"))
        let writer = try await RunWriter.start(queue, clock: clock)
        try await writer.job("a", worker: "w", [Outcomes("tests/test_a.py::test_x", .failed, message: "boom"),
                                                Outcomes("tests/test_a.py::test_y", .passed)])
        try await writer.job("retry", worker: "w", attempt: 2, [Outcomes("tests/test_a.py::test_x", .passed)])
        try await writer.finish()
        let summary = try await RunSummary.load(run: writer.run.id, from: queue)
        #expect(summary.flaky == 1 && summary.failures == 0)
        #expect(summary.exitCode(interrupted: false) == 0)
        #expect(summary.exitCode(interrupted: false, failOnFlaky: true) == 1)
        #expect(summary.line.hasPrefix("2 passed, 1 flaky in "), "\(summary.line)")
    }

    @Test func failureLinesListEachFailingTestOnceWithItsLastAttempt() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let lines = try await FailureLine.load(run: writer.run.id, since: 0, from: queue, limit: 100)
        let nodeids = lines.map(\.nodeid)
        #expect(Set(nodeids).count == nodeids.count, "each test once: \(nodeids)")
        #expect(!nodeids.contains("tests/test_b.py::test_flaky"), "flaky tests passed in the end")
        let still = lines.first { $0.nodeid == "tests/test_b.py::test_still_failing" }
        #expect(still?.attempt == 2 && still?.message == "AssertionError: second")
        #expect(lines.count == 6, "failed, error, crashed, timeout, still failing, param: \(nodeids)")
    }

    @Test func progressCountsEachTestOnce() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let progress = try await RunProgress.load(run: writer.run.id, from: queue)
        #expect(progress.tests == 12 && progress.done == 12)
        #expect(progress.failed == 6, "final attempts only")
        #expect(progress.passed == 4, "pass, flaky, xfail, xpass")
    }

    @Test func reportLoadsEveryTestWithAttempts() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder, pending: true)
        let report = try await RunReport.load(run: writer.run.id, from: queue)
        var expected = Fixtures.everyOutcomeFinal
        expected["tests/test_late.py::test_never"] = "pending"
        #expect(Dictionary(uniqueKeysWithValues: report.tests.map { ($0.nodeid, $0.status) }) == expected)
        let flaky = try #require(report.tests.first { $0.nodeid == "tests/test_b.py::test_flaky" })
        #expect(flaky.flaky && flaky.attempts == 2 && flaky.earlierFailures.map(\.attempt) == [1])
        #expect(abs(flaky.totalDuration - 0.75) < 1e-9)
        let still = try #require(report.tests.first { $0.nodeid == "tests/test_b.py::test_still_failing" })
        #expect(!still.flaky && still.failing && still.earlierFailures.first?.message == "AssertionError: first")
        #expect(report.status == "interrupted")
        #expect(report.totals["pending"] == 1 && report.totals["flaky"] == 1 && report.totals["failed"] == 3)
        #expect(report.workerCount == 2)
        let w1 = try #require(report.workers.first { $0.id == "w1" })
        #expect(w1.jobs == 2 && w1.tests == 8)
        #expect(w1.idleShare > 0 && w1.idleShare < 1, "w1 waited while w2 ran: \(w1)")
        #expect(report.jobs.count == 4 && report.jobs.filter { $0.state == .queued }.count == 1)
        #expect(report.slowest(1).first?.nodeid == "tests/test_b.py::TestGroup::test_hang")
        let efficiency = try #require(report.efficiency)
        #expect(efficiency > 0 && efficiency < 1)
    }

    @Test func textReportShowsFailuresTracebacksSlowestWorkersAndEfficiency() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let text = try await RunReport.load(run: writer.run.id, from: queue).render(.text)
        #expect(text.contains("FAILURES (6)"))
        #expect(text.contains("  FAILED tests/test_a.py::test_fail (w1, 0.20s)"), "\(text)")
        #expect(text.contains("    AssertionError: one is not two"))
        #expect(text.contains("    | E       AssertionError: one is not two\\x01 red "), "controls shown, colours dropped")
        #expect(text.contains("FLAKY (1)") && text.contains("tests/test_b.py::test_flaky (failed on attempt 1; passed on attempt 2)"))
        #expect(text.contains("SLOWEST 10") && text.contains("3.00s  tests/test_b.py::TestGroup::test_hang"))
        #expect(text.contains("WORKERS") && text.contains("w1") && text.contains("w2"))
        #expect(text.contains("idle: share of the worker's life outside jobs"), "the idle column says what it counts")
        #expect(text.contains("efficiency "))
        #expect(text.contains("run 1 \"nightly\" (complete): 3 failed, 2 passed, 1 flaky"), "\(text)")
        #expect(!text.contains("\u{1b}") && !text.contains("\u{0}"))

        let filtered = try await RunReport.load(run: writer.run.id, from: queue).render(.text, statuses: ["skipped", "xfailed"])
        #expect(filtered.contains("TESTS (skipped, xfailed): 2"))
        #expect(filtered.contains("SKIPPED tests/test_a.py::test_skip") && filtered.contains("not today"))
        #expect(!filtered.contains("FAILED tests/test_a.py::test_fail"))
    }

    @Test func jsonReportIsOneDocumentedObject() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let report = try await RunReport.load(run: writer.run.id, from: queue)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.render(.json).utf8)) as? [String: Any])
        for key in ["run", "status", "workers", "wall_seconds", "totals", "tests", "jobs"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["run"] as? Int == Int(writer.run.id))
        #expect(object["status"] as? String == "complete")
        #expect(object["workers"] as? Int == 2)
        #expect((object["wall_seconds"] as? Double ?? 0) > 0)
        let totals = try #require(object["totals"] as? [String: Int])
        #expect(totals == ["passed": 2, "failed": 3, "error": 1, "skipped": 1, "xfailed": 1, "xpassed": 1,
                           "crashed": 1, "timeout": 1, "not_run": 1, "flaky": 1, "pending": 0])
        let tests = try #require(object["tests"] as? [[String: Any]])
        #expect(tests.count == 12)
        let flaky = try #require(tests.first { $0["nodeid"] as? String == "tests/test_b.py::test_flaky" })
        #expect(flaky["outcome"] as? String == "passed" && flaky["attempts"] as? Int == 2 && flaky["flaky"] as? Bool == true)
        #expect(flaky["worker"] as? String == "w1" && flaky["job"] is Int && flaky["duration"] as? Double == 0.35)
        for test in tests {
            for key in ["nodeid", "outcome", "attempts", "duration", "worker", "job"] { #expect(test[key] != nil) }
        }
        let jobs = try #require(object["jobs"] as? [[String: Any]])
        #expect(jobs.count == 3)
        for job in jobs {
            for key in ["id", "group", "worker", "started", "finished", "state", "attempts"] { #expect(job[key] != nil) }
        }
        #expect(jobs.first?["group"] as? String == "tests/test_a.py")
        #expect(jobs.first?["state"] as? String == "done")

        let filtered = report.render(.json, statuses: try RunReport.parseStatuses("failed,error"))
        let subset = try #require(try JSONSerialization.jsonObject(with: Data(filtered.utf8)) as? [String: Any])
        let listed = try #require(subset["tests"] as? [[String: Any]])
        #expect(Set(listed.compactMap { $0["outcome"] as? String }) == ["failed", "error"])
        #expect(listed.count == 4)
        #expect((subset["totals"] as? [String: Int])?["passed"] == 2, "totals stay whole")
        #expect(throws: ReportError.unknownStatus("bogus")) { try RunReport.parseStatuses("failed,bogus") }
    }

    @Test func junitIsValidAndKeepsRetriesAsSurefireDoes() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder, pending: true)
        let xml = try await RunReport.load(run: writer.run.id, from: queue, output: true).render(.junit)
        let path = try folder.write("junit.xml", xml)
        #expect(!xml.unicodeScalars.contains { $0.value < 0x20 && ![0x09, 0x0A, 0x0D].contains($0.value) },
                "no character XML 1.0 forbids")
        #expect(!xml.contains(Fixtures.hostile))

        if let xmllint = XMLLint.path {
            let result = try ChildProcess.run(xmllint, ["--noout", "--schema", XMLLint.schema, path])
            #expect(result.status == 0, "xmllint: \(result.stderr)")
        }

        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: [])
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "tests")?.stringValue == "13")
        #expect(root.attribute(forName: "failures")?.stringValue == "5", "failed ×3, crashed, timeout")
        #expect(root.attribute(forName: "errors")?.stringValue == "1")
        #expect(root.attribute(forName: "skipped")?.stringValue == "4", "skipped, xfailed, not run, pending")
        let suites = root.elements(forName: "testsuite")
        #expect(suites.map { $0.attribute(forName: "name")?.stringValue ?? "" }
            == ["tests/test_a.py", "tests/test_b.py", "tests/test_late.py"])
        let cases = suites.flatMap { $0.elements(forName: "testcase") }
        func testcase(_ classname: String, _ name: String) throws -> XMLElement {
            try #require(cases.first {
                $0.attribute(forName: "classname")?.stringValue == classname && $0.attribute(forName: "name")?.stringValue == name
            }, "\(classname) \(name)")
        }
        let flaky = try testcase("tests.test_b", "test_flaky")
        #expect(flaky.elements(forName: "failure").isEmpty)
        let flakyFailure = try #require(flaky.elements(forName: "flakyFailure").first)
        #expect(flakyFailure.attribute(forName: "message")?.stringValue == "attempt 1: AssertionError: flaky once")
        #expect(flakyFailure.elements(forName: "stackTrace").first?.stringValue == "E   AssertionError: flaky once")
        let still = try testcase("tests.test_b", "test_still_failing")
        #expect(still.elements(forName: "failure").first?.attribute(forName: "message")?.stringValue == "AssertionError: second")
        #expect(still.elements(forName: "rerunFailure").count == 1)
        let crash = try testcase("tests.test_b.TestGroup", "test_crash")
        #expect(crash.elements(forName: "failure").first?.attribute(forName: "type")?.stringValue == "crashed")
        let skip = try testcase("tests.test_a", "test_skip")
        #expect(skip.elements(forName: "skipped").first?.attribute(forName: "message")?.stringValue == "not today")
        let pass = try testcase("tests.test_a", "test_pass")
        #expect(pass.elements(forName: "system-out").first?.stringValue == "hello from stdout\n")
        #expect(pass.attribute(forName: "time")?.stringValue == "0.100")
        let hostile = try testcase("tests.test_b", "test_param[a|b-\(Fixtures.hostile)]")
        #expect(hostile.elements(forName: "failure").first?.attribute(forName: "message")?.stringValue
            == "ValueError: \(Fixtures.hostile) <img src=x onerror=alert(1)>", "escaped, and read back intact")
        let fail = try testcase("tests.test_a", "test_fail")
        let text = try #require(fail.elements(forName: "failure").first?.stringValue)
        #expect(text.contains("one is not two\\x01 red "), "control replaced, colours dropped: \(text)")
        #expect(fail.elements(forName: "system-out").first?.stringValue == "captured \\x07bell\n")
    }

    @Test func htmlIsSelfContainedAndEscapesEverything() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let html = try await RunReport.load(run: writer.run.id, from: queue).render(.html)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.components(separatedBy: "<script").count == 2, "only arun's own script")
        #expect(!html.contains(Fixtures.hostile) && !html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"))
        #expect(!html.contains("</pre><script"))
        #expect(!html.contains("<link") && !html.contains("<img") && !html.contains("<iframe"))
        #expect(html.contains("default-src 'none'"))
        #expect(html.contains("<input id=\"filter\""))
        #expect(html.contains("<table id=\"failures\">"))
        #expect(html.components(separatedBy: "<tr><td class=\"outcome").count - 1 >= 6)
        // The timeline: one lane per worker, one bar per job.
        #expect(html.contains("<svg class=\"timeline\""))
        #expect(html.components(separatedBy: "<rect ").count - 1 == 3)
        #expect(html.contains(">w1<title>w1</title></text>") && html.contains(">w2<title>w2</title></text>"))
        #expect(html.components(separatedBy: "class=\"bad\"><title>").count - 1 == 3, "every job had a failing test")
        #expect(html.contains("Flaky (1)"))
        #expect(!html.contains("\u{1b}") && !html.contains("\u{0}"))
        if let xmllint = XMLLint.path {
            // libxml2's HTML parser: the page parses and the hostile text stays text.
            let path = try folder.write("report.html", html)
            let scripts = try ChildProcess.run(xmllint, ["--html", "--noout", "--xpath", "count(//script)", path])
            #expect(scripts.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(scripts.stdout)\(scripts.stderr)")
            let images = try ChildProcess.run(xmllint, ["--html", "--noout", "--xpath", "count(//img)", path])
            #expect(images.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        }
    }

    @Test func markdownIsCompactAndEscaped() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let markdown = try await RunReport.load(run: writer.run.id, from: queue).render(.markdown)
        #expect(markdown.hasPrefix("### ❌ arun run 1 (complete)"))
        #expect(markdown.contains("| passed | failed | error | skipped | xfailed | xpassed | crashed | timeout | not run | flaky |"))
        #expect(markdown.contains("#### Failures (6)"))
        #expect(markdown.contains("`tests/test_b.py::test_param[a\\|b-<script>alert('pwned')</script>]`"),
                "in a code span, with the pipe escaped: \(markdown)")
        #expect(markdown.contains("ValueError: &lt;script&gt;"), "messages escaped")
        #expect(markdown.contains("<details><summary>Flaky tests (1)</summary>"))
        #expect(markdown.split(separator: "\n").count < 60)
    }

    @Test func unknownRunsAndEmptyDatabasesAreRefused() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let queue = try SQLiteQueue(path: folder.file("empty.db"))
        #expect(throws: QueueError.noRuns(path: queue.path)) { try queue.runOrLatest(nil) }
        let (full, writer) = try await Fixtures.everyOutcome(in: folder)
        #expect(throws: QueueError.unknownRun(99)) { try full.runOrLatest(99) }
        #expect(try full.runOrLatest(nil).id == writer.run.id)
    }

    @Test func viewsAnswerTheUsualQuestions() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder, pending: true)
        #expect(try queue.schemaVersion() == 2)
        let run = writer.run.id
        try queue.readSync { db in
            let finals = try Row.fetchAll(db, sql: "SELECT nodeid, outcome, attempt FROM latest_results WHERE run_id = ?",
                                          arguments: [run])
            #expect(finals.count == 12)
            #expect(finals.contains { $0[0] == "tests/test_b.py::test_still_failing" && $0[1] == "failed" && $0[2] == 2 })
            let flaky = try Row.fetchAll(db, sql: "SELECT nodeid, attempts, failed_attempts FROM flaky_tests WHERE run_id = ?",
                                         arguments: [run])
            #expect(flaky.count == 1)
            let nodeid: String? = flaky.first?[0]
            let attempts: Int? = flaky.first?[1]
            let failedAttempts: Int? = flaky.first?[2]
            #expect(nodeid == "tests/test_b.py::test_flaky" && attempts == 2 && failedAttempts == 1)
            #expect(try String.fetchAll(db, sql: "SELECT nodeid FROM pending_tests WHERE run_id = ?", arguments: [run])
                == ["tests/test_late.py::test_never"])
            let totals = try Row.fetchAll(db, sql: "SELECT outcome, tests FROM run_totals WHERE run_id = ?", arguments: [run])
            let counts = Dictionary(uniqueKeysWithValues: totals.map { ($0[0] as String, $0[1] as Int) })
            #expect(counts["failed"] == 3 && counts["passed"] == 2)
            let busy = try Row.fetchAll(db, sql: "SELECT worker, jobs FROM worker_busy WHERE run_id = ? ORDER BY worker",
                                        arguments: [run])
            #expect(busy.map { $0[0] as String } == ["w1", "w2"])
        }
    }
}
