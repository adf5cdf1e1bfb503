import Foundation
import GRDB
@testable import Queue
import TestSupport
import Testing

/// How a run stops, resumes and reports while it runs, against serial pytest: -x and
/// --maxfail inside a job, signals at start-up, `arun work` on its own, retries, time.
@Suite(.serialized) struct RuntimeTests {
    /// 2 failing then 200 passing tests in one file: pytest -x stops after the first.
    @Test func exitFirstOnOneWorkerStopsWherePytestStops() throws {
        let arun = try ArunHarness()
        var text = "def test_a_fail():\n    assert False\n\ndef test_b_fail():\n    assert False\n\n"
        for index in 0..<200 { text += "def test_pass_\(index)():\n    pass\n\n" }
        try arun.folder.write("pytest.ini", "[pytest]\n")
        try arun.folder.write("tests/test_stop.py", text)
        for (arguments, pytestArguments) in [(["-x"], ["-x"]), (["--maxfail", "2"], ["--maxfail", "2"])] {
            let reference = try SerialPytest.counts(in: arun.folder.path, arguments: ["tests"] + pytestArguments)
            let output = try arun.arun(["run", "tests", "-n", "1"] + arguments)
            #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
            let ours = SerialPytest.parseSummary(output.stdout)
            #expect(ours["failed"] == reference["failed"], "\(arguments): arun \(ours) vs pytest \(reference)")
            #expect(ours["passed", default: 0] == reference["passed", default: 0], "\(arguments): \(ours) vs \(reference)")
            // What pytest never ran is there, as not run: nothing vanishes from the totals.
            #expect(ours["failed", default: 0] + ours["passed", default: 0] + ours["not run", default: 0] == 202,
                    "\(output.stdout)")
        }
    }

    /// --maxfail 2 over files of 2 failures each, one worker: pytest's 2 failures, and the
    /// files no worker collected are counted as files that did not run.
    @Test func maxfailAcrossJobsCountsTheRunAndNamesWhatDidNotRun() throws {
        let arun = try ArunHarness()
        try arun.folder.write("pytest.ini", "[pytest]\n")
        for file in 0..<12 {
            try arun.folder.write("tests/test_f\(String(format: "%02d", file)).py",
                                  "def test_fail_1():\n    assert False\n\ndef test_fail_2():\n    assert False\n\ndef test_ok():\n    pass\n")
        }
        let reference = try SerialPytest.counts(in: arun.folder.path, arguments: ["tests", "--maxfail", "3"])
        let output = try arun.arun(["run", "tests", "-n", "1", "--maxfail", "3"])
        #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
        let ours = SerialPytest.parseSummary(output.stdout)
        #expect(ours["failed"] == reference["failed"], "arun \(ours) vs pytest \(reference)")
        let known = try arun.testCount()
        let files = output.stdout.range(of: #"(\d+) test files? did not run"#, options: .regularExpression)
            .map { Int(output.stdout[$0].split(separator: " ")[0]) ?? 0 } ?? 0
        // Every test is a result or in a file the summary names: 3 tests per file.
        #expect(known + files * 3 == 36, "known \(known), files not run \(files): \(output.stdout)")
        #expect(try arun.results().count == known, "every known test has an outcome")
    }

    /// -x across worker processes (`--mp`): once a failure is recorded, every worker
    /// stops within about a second (its watchdog sees the cancelled run), not at the end
    /// of its job; what did not run is `not_run`.
    @Test func exitFirstAcrossProcessesStopsEveryWorkerSoon() throws {
        let arun = try ArunHarness()
        try Suites.trivial(in: arun.folder, files: 6, perFile: 20, sleep: 0.2)
        var early = "import time\n\ndef test_0():\n    time.sleep(1)\n\ndef test_fails():\n    assert False\n\n"
        for index in 0..<18 { early += "def test_late_\(index)():\n    time.sleep(0.2)\n\n" }
        try arun.folder.write("tests/pkg0/test_f0.py", early)
        let output = try arun.arun(["run", "--mp", "-n", "3", "-x"])
        #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
        let times = try arun.queue().readSync { db in
            try Row.fetchAll(db, sql: "SELECT outcome, finished_at FROM results WHERE outcome != 'not_run'")
                .map { (outcome: $0[0] as String, at: $0[1] as Double) }
        }
        let failedAt = try #require(times.first { $0.outcome == "failed" }?.at)
        let lastRun = times.map(\.at).max() ?? failedAt
        // A worker in a 0.2 s test when the limit came finishes it, then stops; 3 s is generous.
        #expect(lastRun - failedAt < 3, "tests ran \(lastRun - failedAt) s after the failure")
        #expect(times.filter { $0.outcome == "failed" }.count <= 3, "at most one failure per worker")
        let results = try arun.results()
        #expect(results.contains { $0.outcome == "not_run" })
        #expect(results.count == (try arun.testCount()))
    }

    /// SIGTERM while every pytest is still starting (a slow conftest): exit 2, "interrupted",
    /// never "pytest could not start"; the run then resumes to the end.
    @Test func signalDuringPytestStartUpIsAnInterruption() throws {
        let arun = try ArunHarness()
        try Suites.trivial(in: arun.folder, files: 4, perFile: 5)
        // Slow in the workers' pytest only (the planner's listing passes --arun-collect).
        try arun.folder.write("tests/conftest.py", """
            import os, sys, time
            if not any(a.startswith("--arun-collect") for a in sys.argv):
                time.sleep(float(os.environ.get("SLOW_START", "0")))
            """)
        let run = try ChildProcess.start(Executables.arun, arun.arguments(["run", "-n", "2"]), directory: arun.folder.path,
                                         environment: ["SLOW_START": "6"])
        // Planned, and both workers' pytest still in their 6 s start-up.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline,
              (try? arun.queue().latestRun()?.status) != .running || ProcessTree.children(of: run.pid).count < 2 {
            usleep(50_000)
        }
        usleep(500_000)
        #expect(try arun.results().isEmpty, "no test ran yet")
        run.signal(SIGTERM)
        let first = try run.wait(timeout: 60)
        #expect(first.status == 2, "\(first.stdout)\(first.stderr)")
        #expect((first.stdout + first.stderr).contains("interrupted"), "\(first.stdout)\(first.stderr)")
        #expect(!(first.stdout + first.stderr).contains("could not start"), "\(first.stderr)")
        let second = try arun.arun(["run", "--resume"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(try arun.results().count == 20)
    }

    /// SIGTERM while the planner collects the suite (a mark split): exit 2, "interrupted",
    /// and the planned run then resumes to the end.
    @Test func signalWhilePlanningIsAnInterruptionAndTheRunResumes() throws {
        let arun = try ArunHarness()
        try arun.folder.write("pytest.ini", "[pytest]\nmarkers =\n    fast: fast\n")
        try arun.folder.write("tests/test_m.py", "import pytest\n\n@pytest.mark.fast\ndef test_a():\n    pass\n\ndef test_b():\n    pass\n")
        // Slow only in the planner's collection.
        try arun.folder.write("tests/conftest.py", """
            import sys, time
            if any(a.startswith("--arun-collect") for a in sys.argv):
                time.sleep(4)
            """)
        let run = try arun.start(["run", "--dist-mark", "fast", "-n", "1"])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && ProcessTree.children(of: run.pid).isEmpty { usleep(50_000) }
        usleep(1_000_000)
        run.signal(SIGTERM)
        let first = try run.wait(timeout: 60)
        #expect(first.status == 2, "\(first.stdout)\(first.stderr)")
        #expect((first.stdout + first.stderr).contains("interrupted"), "\(first.stdout)\(first.stderr)")
        #expect(try arun.results().isEmpty, "nothing ran")
        let second = try arun.arun(["run", "--resume"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(try arun.results().map(\.outcome) == ["passed"], "the fast test ran on resume")
    }

    /// `arun work` on a planned run: progress and summary like `arun run`, pytest's exit
    /// code, and the run ends `complete`.
    @Test func workAloneSummarisesExitsWithPytestsCodeAndCompletes() throws {
        let arun = try ArunHarness()
        try Suites.outcomes(in: arun.folder)
        let reference = try SerialPytest.counts(in: arun.folder.path)
        let planned = try arun.arun(["enqueue"])
        #expect(planned.status == 0, "\(planned.stdout)\(planned.stderr)")
        let output = try arun.arun(["work", "-n", "2"])
        #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
        let ours = SerialPytest.parseSummary(output.stdout)
        for key in RunTests.compared {
            #expect(ours[key, default: 0] == reference[key, default: 0], "\(key): arun \(ours) vs pytest \(reference)")
        }
        #expect(try arun.queue().latestRun()?.status == .complete)
    }

    /// A test that always fails, with --retries 2: its failure line is printed once while
    /// the run goes on (and once in the final list).
    @Test func retriesPrintEachFailureOnce() throws {
        let arun = try ArunHarness()
        try arun.folder.write("pytest.ini", "[pytest]\n")
        try arun.folder.write("tests/test_r.py", """
            import time

            def test_always():
                time.sleep(1.5)
                assert False, "still broken"

            def test_ok():
                time.sleep(1.5)
            """)
        let output = try arun.arun(["run", "-n", "1", "--retries", "2"])
        #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
        let lines = output.stdout.split(separator: "\n")
        let live = lines.filter { $0.hasPrefix("FAILED tests/test_r.py::test_always") }
        let listed = lines.filter { $0.hasPrefix("  FAILED tests/test_r.py::test_always") }
        #expect(live.count <= 1 && listed.count == 1, "\(output.stdout)")
        #expect(output.stdout.contains("retry 2 of 2"), "\(output.stdout)")
        #expect(try arun.results().filter { $0.nodeid.hasSuffix("test_always") }.count == 3)
    }

    /// The wall time of a run and its `rerun --failed` is what the two invocations took,
    /// not the idle time between them.
    @Test func wallTimeLeavesOutIdleGapsBetweenInvocations() throws {
        let arun = try ArunHarness()
        try arun.folder.write("pytest.ini", "[pytest]\n")
        try arun.folder.write("tests/test_w.py", "def test_fail():\n    assert False\n\ndef test_ok():\n    pass\n")
        let started = Date()
        let first = try arun.arun(["run", "-n", "1"])
        let firstSeconds = Date().timeIntervalSince(started)
        #expect(first.status == 1)
        sleep(6)
        let rerunStarted = Date()
        let second = try arun.arun(["rerun", "--failed", "-n", "1"])
        let secondSeconds = Date().timeIntervalSince(rerunStarted)
        #expect(second.status == 1, "\(second.stdout)\(second.stderr)")
        let firstWall = Self.seconds(in: first.stdout)
        let bothWall = Self.seconds(in: second.stdout)
        #expect(firstWall > 0.3 && firstWall <= firstSeconds + 0.5,
                "the first run's time includes start-up: \(firstWall) s of \(firstSeconds) s real")
        #expect(bothWall > firstWall && bothWall <= firstSeconds + secondSeconds + 0.5,
                "both invocations: \(bothWall) s; they took \(firstSeconds) + \(secondSeconds) s with 6 s between")
    }

    static func seconds(in summary: String) -> Double {
        guard let range = summary.range(of: #"in (\d+\.\d+)s"#, options: .regularExpression) else { return 0 }
        return Double(summary[range].dropFirst(3).dropLast()) ?? 0
    }
}
