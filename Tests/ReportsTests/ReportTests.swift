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

    @Test func textReportShowsPytestSectionsSlowestWorkersAndEfficiency() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let report = try await RunReport.load(run: writer.run.id, from: queue, output: true)
        let text = report.render(.text, environment: ["COLUMNS": "80"])
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains("==================================== ERRORS ===================================="), "\(text)")
        #expect(lines.contains("=================================== FAILURES ==================================="))
        #expect(lines.contains("__________________________________ test_fail ___________________________________"),
                "the recorded headline")
        #expect(lines.contains("_____________________________ TestGroup.test_crash _____________________________"),
                "a headline from the node id")
        #expect(lines.contains("_________________________ ERROR at setup of test_error _________________________"))
        #expect(lines.contains("def test_fail():"), "the whole failure text, its first line too")
        #expect(text.contains("E       AssertionError: one is not two\\x01 red "), "controls shown, colours dropped")
        #expect(lines.contains("----------------------------- Captured stdout call -----------------------------"))
        #expect(lines.contains("captured \\x07bell"))
        #expect(lines.contains("------------------------------ Captured log call -------------------------------"))
        #expect(lines.contains("---------------------------- Captured stdout setup -----------------------------"))
        #expect(lines.contains("FLAKY (1): failed, then passed on a later attempt"))
        #expect(text.contains("tests/test_b.py::test_flaky (failed on attempt 1; passed on attempt 2)"))
        #expect(text.contains("SLOWEST 10") && text.contains("3.00s  tests/test_b.py::TestGroup::test_hang"))
        #expect(text.contains("WORKERS") && text.contains("w1") && text.contains("w2"))
        #expect(text.contains("idle: share of the worker's life outside jobs"), "the idle column says what it counts")
        #expect(text.contains("efficiency "))
        // pytest's default -r is fE: failures (crashes and timeouts as such), then errors.
        let summary = try #require(lines.firstIndex(of: "=========================== short test summary info ============================"))
        let shortLines = Array(lines[(summary + 1)...].prefix { !$0.hasPrefix("wall ") })
        #expect(shortLines == [
            "FAILED tests/test_a.py::test_fail - AssertionError: one is not two",
            "CRASHED tests/test_b.py::TestGroup::test_crash - crashed: pytest died of SIGSEGV",
            "TIMEOUT tests/test_b.py::TestGroup::test_hang - timeout after 3 s",
            "FAILED tests/test_b.py::test_param[a|b-<script>alert('pwned')</script>] - Val...",
            "FAILED tests/test_b.py::test_still_failing - AssertionError: second",
            "ERROR tests/test_a.py::test_error - RuntimeError: fixture exploded",
        ], "\(shortLines)")
        #expect(lines.last(where: { !$0.isEmpty })?.hasPrefix("run 1 \"nightly\" (complete): 3 failed, 2 passed, 1 flaky") == true,
                "the totals line closes the report: \(text)")
        #expect(!text.contains("\u{1b}") && !text.contains("\u{0}"))

        // On CI pytest prints whole messages.
        let onCI = report.render(.text, environment: ["COLUMNS": "80", "CI": "true"])
        #expect(onCI.contains("FAILED tests/test_b.py::test_param[a|b-<script>alert('pwned')</script>] - ValueError: <script>"))

        let filtered = report.render(.text, statuses: ["skipped", "xfailed"])
        #expect(filtered.contains("TESTS (skipped, xfailed): 2"))
        #expect(filtered.contains("SKIPPED tests/test_a.py::test_skip") && filtered.contains("not today"))
        #expect(!filtered.contains("FAILED tests/test_a.py::test_fail"))
    }

    @Test func shortSummaryFollowsTheRunsReportCharacters() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, clock) = try RunWriter.open(folder.file("chars.db"))
        let run = try await queue.createRun(NewRun(name: nil, directory: "/suite", paths: ["tests"],
                                                   pytestArgs: ["-rA", "--tb=short"], settings: RunSettings()))
        try await queue.setStatus(.running, of: run.id)
        let writer = RunWriter(queue: queue, clock: clock, run: run)
        try await writer.job("a", worker: "w", [
            Outcomes("tests/test_a.py::test_ok", .passed, sections: #"[["Captured stdout call","hi\n"]]"#),
            Outcomes("tests/test_a.py::test_s1", .skipped, message: "later", extra: #"{"skip_location":"tests/test_a.py:4"}"#),
            Outcomes("tests/test_a.py::test_s2", .skipped, message: "later", extra: #"{"skip_location":"tests/test_a.py:4"}"#),
            Outcomes("tests/test_a.py::test_xf", .xfailed, message: "known"),
            Outcomes("tests/test_a.py::test_xp", .xpassed, message: "fixed"),
        ])
        try await writer.finish()
        let text = try await RunReport.load(run: run.id, from: queue, output: true).render(.text, environment: ["COLUMNS": "80"])
        let lines = text.split(separator: "\n").map(String.init)
        let summary = try #require(lines.firstIndex { $0.contains(" short test summary info ") })
        #expect(Array(lines[(summary + 1)...].prefix(4)) == [
            "PASSED tests/test_a.py::test_ok",
            "SKIPPED [2] tests/test_a.py:4: later",
            "XFAIL tests/test_a.py::test_xf - known",
            "XPASS tests/test_a.py::test_xp - fixed",
        ], "\(text)")
        #expect(lines.contains { $0.contains(" PASSES ") } && lines.contains("hi"), "-rA shows passed tests' output")
        #expect(PytestTerminalOptions(arguments: ["-ra"]).reportChars == "sxXEf")
        #expect(PytestTerminalOptions(arguments: ["-r", "fEN"]).reportChars == "")
        #expect(PytestTerminalOptions(arguments: ["-rfs", "--tb", "line"]).tracebackStyle == "line")
    }

    @Test func jsonReportIsOneDocumentedObject() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let report = try await RunReport.load(run: writer.run.id, from: queue, output: true)
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
        // Failure text and captured sections for failed and errored tests.
        let fail = try #require(tests.first { $0["nodeid"] as? String == "tests/test_a.py::test_fail" })
        #expect((fail["details"] as? String)?.hasPrefix("def test_fail():") == true)
        let sections = try #require(fail["sections"] as? [[String: String]])
        #expect(sections.map { $0["title"] ?? "" } == ["Captured stdout call", "Captured log call"])
        #expect(sections.first?["text"] == "captured \u{07}bell\n", "JSON carries the text as it was")
        let error = try #require(tests.first { $0["nodeid"] as? String == "tests/test_a.py::test_error" })
        #expect((error["sections"] as? [[String: String]])?.first?["title"] == "Captured stdout setup")
        let skip = try #require(tests.first { $0["nodeid"] as? String == "tests/test_a.py::test_skip" })
        #expect(skip["skip_location"] as? String == "tests/test_a.py:12" && skip["details"] == nil)
        let earlier = try #require(flaky["earlier_attempts"] as? [[String: Any]])
        #expect(earlier.count == 1 && earlier.first?["details"] as? String == "E   AssertionError: flaky once")
        #expect(tests.first { $0["nodeid"] as? String == "tests/test_a.py::test_pass" }?["details"] == nil)
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

        #expect(try XMLLint.problems(path) == [])

        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: [])
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "tests")?.stringValue == "13")
        #expect(root.attribute(forName: "failures")?.stringValue == "5", "failed ×3, crashed, timeout")
        #expect(root.attribute(forName: "errors")?.stringValue == "1")
        #expect(root.attribute(forName: "skipped") == nil && root.attribute(forName: "timestamp") == nil,
                "junit-10.xsd allows neither on testsuites")
        let skippedCount = root.elements(forName: "testsuite").compactMap { $0.attribute(forName: "skipped")?.stringValue }
            .compactMap(Int.init).reduce(0, +)
        #expect(skippedCount == 4, "skipped, xfailed, not run, pending")
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
        let html = try await RunReport.load(run: writer.run.id, from: queue, output: true).render(.html)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.components(separatedBy: "<script").count == 3, "the data block and arun's own script")
        #expect(!html.contains(Fixtures.hostile) && !html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"), "markup escaped")
        #expect(html.contains(#"\u003cscript>alert('pwned')\u003c/script>"#), "data escaped: no </script> in it")
        #expect(!html.contains("</pre><script"))
        #expect(!html.contains("<link") && !html.contains("<img") && !html.contains("<iframe") && !html.contains("https://"))
        #expect(html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http://") == false,
                "no external resource")
        #expect(html.contains("default-src 'none'"))
        #expect(!html.contains(folder.path), "no absolute path, the footer names the file")
        #expect(html.contains("from every.db (run 1)"))
        #expect(html.contains("<input id=\"search\"") && html.contains("<table id=\"tests\">"))
        #expect(html.contains("data-outcome=\"failed\" aria-pressed=\"false\">failed <b>3</b>"), "chips with counts")
        // The timeline: one lane per worker, one bar per job attempt.
        #expect(html.contains("<svg class=\"timeline\""))
        #expect(html.components(separatedBy: "<rect ").count - 1 == 3)
        #expect(html.contains(">w1<title>w1</title></text>") && html.contains(">w2<title>w2</title></text>"))
        #expect(html.components(separatedBy: "class=\"bad\"><title>").count - 1 == 3, "every job recorded a failure")
        #expect(html.contains("Flaky (1)") && html.contains("attempt 1: failed on w2"))
        #expect(!html.contains("\u{1b}") && !html.contains("\u{0}"))
        let path = try folder.write("report.html", html)
        let xmllint = try #require(XMLLint.path, "xmllint is missing: apt-get install libxml2-utils")
        // libxml2's HTML parser: the page parses and the hostile text stays text.
        let scripts = try ChildProcess.run(xmllint, ["--html", "--noout", "--xpath", "count(//script)", path])
        #expect(scripts.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "\(scripts.stdout)\(scripts.stderr)")
        let images = try ChildProcess.run(xmllint, ["--html", "--noout", "--xpath", "count(//img)", path])
        #expect(images.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test func timelineDrawsAFailedFirstAttemptRedAfterARetryPassed() async throws {
        let folder = try TemporaryFolder("arun-reports")
        let (queue, clock) = try RunWriter.open(folder.file("retry.db"))
        let writer = try await RunWriter.start(queue, clock: clock)
        try await writer.job("first", worker: "w1", [Outcomes("tests/test_a.py::test_x", .failed, message: "boom"),
                                                     Outcomes("tests/test_a.py::test_y", .passed)])
        try await writer.job("retry", worker: "w2", attempt: 2, [Outcomes("tests/test_a.py::test_x", .passed)])
        try await writer.finish()
        let html = try await RunReport.load(run: writer.run.id, from: queue).render(.html)
        #expect(html.components(separatedBy: "class=\"bad\"><title>first").count - 1 == 1, "the failing attempt's job")
        #expect(html.components(separatedBy: "class=\"ok\"><title>retry").count - 1 == 1, "the passing retry's job")
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
        #expect(try queue.schemaVersion() == Migrations.all.count, "every migration applied")
        let run = writer.run.id
        try queue.readSync { db in
            let finals = try Row.fetchAll(db, sql: "SELECT nodeid, outcome, attempt FROM latest_results WHERE run_id = ?",
                                          arguments: [run])
            #expect(finals.count == 12)
            let sections = try String.fetchAll(db, sql: """
                SELECT json_extract(s.value, '$[0]') FROM latest_results, json_each(latest_results.sections) AS s
                WHERE run_id = ? AND nodeid = 'tests/test_a.py::test_fail'
                """, arguments: [run])
            #expect(sections == ["Captured stdout call", "Captured log call"])
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
