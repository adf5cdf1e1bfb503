import Foundation
@testable import Queue
import TestSupport
import Testing

/// `arun run` end to end: real pytest, generated suites, real processes and signals.
@Suite(.serialized) struct RunTests {
    static let compared = ["failed", "passed", "skipped", "xfailed", "xpassed", "error"]

    @Test func outcomesMatchSerialPytest() async throws {
        let arun = try ArunHarness()
        try Suites.outcomes(in: arun.folder)
        let reference = try SerialPytest.counts(in: arun.folder.path)
        #expect(reference["passed"] ?? 0 > 0, "reference run parsed: \(reference)")
        let output = try arun.arun(["run", "-n", "2"])
        #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
        let ours = SerialPytest.parseSummary(output.stdout)
        for key in Self.compared {
            #expect(ours[key, default: 0] == reference[key, default: 0], "\(key): arun \(ours) vs pytest \(reference)")
        }
        let results = try arun.results()
        #expect(results.count == (try arun.testCount()), "one result per test")
        #expect(Set(results.map(\.nodeid)).count == results.count)
        let byNode = Dictionary(results.map { ($0.nodeid, $0.outcome) }, uniquingKeysWith: { a, _ in a })
        #expect(byNode["tests/test_outcomes.py::test_fixture_error"] == "error")
        #expect(byNode["tests/test_outcomes.py::test_xpass"] == "xpassed")
        #expect(byNode["tests/test_outcomes.py::test_param[4]"] == "failed")
        #expect(byNode["tests/test_outcomes.py::test_subtests"] == "failed")
    }

    @Test func collectionErrorsAreShownAndExitTwo() async throws {
        let arun = try ArunHarness()
        try arun.folder.write("tests/test_ok.py", "def test_ok():\n    pass\n")
        try arun.folder.write("tests/test_broken.py", "import no_such_module_here\n\ndef test_never():\n    pass\n")
        let output = try arun.arun(["run", "-n", "2"])
        #expect(output.status == 2, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("1 collection error"), "\(output.stdout)")
        let problems = try await arun.queue().collectionErrors(run: 1)
        #expect(problems.count == 1)
        #expect(problems.first?.location.contains("test_broken.py") == true)
        #expect(problems.first?.message.contains("no_such_module_here") == true, "\(problems)")
        let tolerated = try arun.arun(["run", "-n", "2", "--", "--continue-on-collection-errors"])
        #expect(tolerated.status == 0, "\(tolerated.stdout)\(tolerated.stderr)")
    }

    @Test func crashesAndHangsAreIsolated() async throws {
        let arun = try ArunHarness()
        try arun.folder.write("tests/test_crash.py", """
            import os, signal, time

            def test_before():
                pass

            def test_segfault():
                os.kill(os.getpid(), signal.SIGSEGV)

            def test_after_segfault():
                pass

            def test_exit():
                os._exit(3)

            def test_after_exit():
                pass

            def test_hang():
                time.sleep(120)

            def test_last():
                pass
            """)
        let started = Date()
        let output = try arun.arun(["run", "-n", "1", "--test-timeout", "3"])
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
        let byNode = Dictionary(try arun.results().map { ($0.nodeid, $0.outcome) }, uniquingKeysWith: { a, _ in a })
        #expect(byNode == [
            "tests/test_crash.py::test_before": "passed",
            "tests/test_crash.py::test_segfault": "crashed",
            "tests/test_crash.py::test_after_segfault": "passed",
            "tests/test_crash.py::test_exit": "crashed",
            "tests/test_crash.py::test_after_exit": "passed",
            "tests/test_crash.py::test_hang": "timeout",
            "tests/test_crash.py::test_last": "passed",
        ])
        let messages = try arun.queue().readSync { db in
            try String.fetchAll(db, sql: "SELECT message FROM results WHERE outcome = 'crashed' ORDER BY message")
        }
        #expect(messages.contains { $0.contains("SIGSEGV") }, "\(messages)")
        #expect(messages.contains { $0.contains("exit code 3") }, "\(messages)")
    }

    @Test func killedWorkerProcessesLoseNothing() async throws {
        let arun = try ArunHarness()
        try Suites.trivial(in: arun.folder, files: 20, perFile: 100, folders: 4, sleep: 0.004)
        let run = try arun.start(["run", "--mp", "-n", "4", "--lease", "2"])
        try run.waitForOutput(containing: " workers · ", timeout: 120)
        // Two of the `arun work` children die mid-run.
        let workers = ProcessTree.children(of: run.pid).filter { ProcessTree.commandLine($0).contains("work") }
        #expect(workers.count == 4, "found workers \(workers)")
        for pid in workers.prefix(2) { kill(pid, SIGKILL) }
        let output = try run.wait(timeout: 300)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        let results = try arun.results()
        #expect(results.count == 2000)
        #expect(Set(results.map(\.nodeid)).count == 2000, "every test exactly once")
        #expect(results.allSatisfy { $0.outcome == "passed" })
    }

    @Test func interruptThenResumeFinishesTheRest() async throws {
        let arun = try ArunHarness()
        try Suites.trivial(in: arun.folder, files: 6, perFile: 10, sleep: 0.1)
        let run = try arun.start(["run", "-n", "2"])
        let deadline = Date().addingTimeInterval(120)
        while (try? arun.results().count) ?? 0 < 5 && Date() < deadline { usleep(100_000) }
        let interruptedAt = Date()
        run.signal(SIGINT)
        let first = try run.wait(timeout: 60)
        #expect(Date().timeIntervalSince(interruptedAt) < 8, "stopped within seconds")
        #expect(first.status == 2, "\(first.stdout)\(first.stderr)")
        let before = try arun.results()
        #expect(before.count > 0 && before.count < 60, "partial: \(before.count)")
        #expect(try arun.queue().latestRun()?.status == .interrupted)

        let second = try arun.arun(["run", "--resume"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let after = try arun.results()
        #expect(after.count == 60)
        #expect(Set(after.map(\.nodeid)).count == 60)
        #expect(after.allSatisfy { $0.outcome == "passed" && $0.attempt == 1 })
    }

    /// SIGTERM (what CI runners and `timeout` send) to `arun run --mp`: the `arun work`
    /// children and their pytest processes all end, the run is resumable, nothing is lost.
    @Test func terminatedMultiProcessRunStopsEveryProcessAndResumes() async throws {
        let arun = try ArunHarness()
        try Suites.trivial(in: arun.folder, files: 6, perFile: 10, sleep: 0.1)
        let run = try arun.start(["run", "--mp", "-n", "2"])
        let deadline = Date().addingTimeInterval(120)
        while (try? arun.results().count) ?? 0 < 5 && Date() < deadline { usleep(100_000) }
        let workers = ProcessTree.children(of: run.pid)
        let pytests = workers.flatMap { ProcessTree.children(of: $0) }
        #expect(workers.count == 2 && pytests.count == 2, "workers \(workers), their children \(pytests)")
        let terminatedAt = Date()
        run.signal(SIGTERM)
        let first = try run.wait(timeout: 60)
        #expect(Date().timeIntervalSince(terminatedAt) < 8, "stopped within seconds")
        #expect(first.status == 2, "\(first.stdout)\(first.stderr)")
        usleep(200_000)
        let alive = (workers + pytests).filter { kill($0, 0) == 0 }
        #expect(alive.isEmpty, "still running after arun exited: \(alive.map(ProcessTree.commandLine))")
        #expect(try arun.queue().latestRun()?.status == .interrupted)
        let before = try arun.results().count
        #expect(before > 0 && before < 60, "partial: \(before)")

        let second = try arun.arun(["run", "--resume"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let after = try arun.results()
        #expect(after.count == 60)
        #expect(Set(after.map(\.nodeid)).count == 60)
    }

    @Test func exitFirstStopsAllWorkersWithinSeconds() async throws {
        let arun = try ArunHarness()
        try Suites.trivial(in: arun.folder, files: 8, perFile: 10, sleep: 0.3)
        // Every job starts at once; one fails in its first test.
        var early = "import time\n\ndef test_fails_early():\n    assert False\n\n"
        for index in 0..<9 { early += "def test_\(index)():\n    time.sleep(0.3)\n\n" }
        try arun.folder.write("tests/pkg0/test_f0.py", early)
        let started = Date()
        let output = try arun.arun(["run", "-n", "4", "-x"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
        #expect(elapsed < 20, "a 24 s suite stopped after \(elapsed) s")
        let results = try arun.results()
        #expect(results.contains { $0.outcome == "failed" })
        #expect(results.contains { $0.outcome == "not_run" })
        #expect(results.count == (try arun.testCount()), "every test has an outcome, not-run included")
    }
}

/// Looks up child processes in /proc.
enum ProcessTree {
    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == parent
        }
    }

    static func commandLine(_ pid: Int32) -> String {
        let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }
}
