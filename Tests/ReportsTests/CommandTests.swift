import Foundation
import Queue
import Reports
import TestSupport
import Testing

/// `arun report`, `runs`, `history`, `durations` and `rerun` through the built binary.
@Suite(.enabled(if: Arun.available, "needs the built arun (swift build)"))
struct CommandTests {
    @Test func reportWritesEveryFormat() async throws {
        let folder = try TemporaryFolder("arun-report-cli")
        _ = try await Fixtures.everyOutcome(in: folder, file: "runs.db")
        let arun = Arun(folder)
        let db = folder.file("runs.db")

        let text = try arun.run(["report", "--db", db])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains(" FAILURES ") && text.stdout.contains(" short test summary info ")
                && text.stdout.contains("run 1 \"nightly\" (complete)"), "\(text.stdout)")

        for (format, file) in [("junit", "out/junit.xml"), ("html", "out/report.html"), ("markdown", "out/summary.md")] {
            let output = try arun.run(["report", "--db", db, "--format", format, "-o", file])
            #expect(output.status == 0 && output.stdout.isEmpty, "\(format): \(output.stderr)")
            #expect(FileManager.default.fileExists(atPath: folder.file(file)), "\(file)")
        }
        #expect(try XMLLint.problems(folder.file("out/junit.xml")) == [])

        let json = try arun.run(["report", "--db", db, "--format", "json", "--status", "failed,error", "--run", "1"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["tests"] as? [[String: Any]])?.count == 4)

        let runs = try arun.run(["runs", "--db", db, "--json"])
        let lines = runs.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect((try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])?["flaky"] as? Int == 1)
        let table = try arun.run(["runs", "--db", db])
        #expect(table.stdout.contains("complete") && table.stdout.contains("1 flaky"), "\(table.stdout)")

        let history = try arun.run(["history", "tests/test_b.py::test_flaky", "--db", db])
        #expect(history.status == 0 && history.stdout.contains("flaky rate 100%"), "\(history.stdout)\(history.stderr)")

        let export = try arun.run(["durations", "export", "--db", db, "-o", "durations.json"])
        #expect(export.status == 0, "\(export.stderr)")
        let exported = try Durations.parse(try Data(contentsOf: URL(fileURLWithPath: folder.file("durations.json"))),
                                           path: "durations.json")
        #expect(exported["tests/test_b.py::TestGroup::test_hang"] == nil, "timeouts did not measure the test")
        #expect(exported["tests/test_b.py::test_flaky"] == 0.35)
        let imported = try arun.run(["durations", "import", "durations.json", "--db", folder.file("other.db")])
        #expect(imported.status == 0 && imported.stdout.contains("imported \(exported.count) durations"), "\(imported.stderr)")
        #expect(try await Durations.imported(from: SQLiteQueue(path: folder.file("other.db"))) == exported)
    }

    @Test func badInputIsOneLineAndExitFour() async throws {
        let folder = try TemporaryFolder("arun-report-bad")
        _ = try await Fixtures.everyOutcome(in: folder, file: "runs.db")
        _ = try await HistoryMergeTests.shard(folder, index: 0, tests: [Outcomes("tests/test_a.py::test_1", .passed)])
        _ = try await HistoryMergeTests.shard(folder, index: 1, paths: ["elsewhere"],
                                              tests: [Outcomes("elsewhere/test_b.py::test_1", .passed)])
        try folder.write("bad.json", "[1, 2, 3]")
        let arun = Arun(folder)
        let db = folder.file("runs.db")
        _ = try SQLiteQueue(path: folder.file("empty.db"))
        let cases: [([String], String)] = [
            (["report", "--db", db, "--run", "42"], "no run 42"),
            (["report", "--db", folder.file("empty.db")], "holds no runs"),
            (["report", "--db", folder.file("missing.db")], "no arun database"),
            (["report", "--db", db, "--format", "pdf"], "pdf"),
            (["report", "--db", db, "--status", "failed,bogus"], "unknown status bogus"),
            (["report", "--db", db, "--format", "junit", "--status", "failed"], "--status"),
            (["report", "--merge", folder.file("shard0.db"), folder.file("shard1.db")], "different suites"),
            (["report", "--merge", folder.file("shard0.db")], "at least two"),
            (["history", "no_such_test", "--db", db], "no run holds the test no_such_test"),
            (["history", "test_flaky", "--db", db], "did you mean tests/test_b.py::test_flaky"),
            (["durations", "import", "missing.json", "--db", db], "cannot be read"),
            (["durations", "import", "bad.json", "--db", db], "not a JSON object"),
            (["rerun", "--db", db], "--failed"),
            (["rerun", "--failed", "42", "--db", db], "no run 42"),
        ]
        for (arguments, words) in cases {
            let output = try arun.run(arguments)
            #expect(output.status == 4, "\(arguments): \(output.stdout) \(output.stderr)")
            #expect(output.stderr.split(separator: "\n").count == 1, "one line: \(output.stderr)")
            #expect(output.stderr.lowercased().contains(words.lowercased()), "\(arguments): \(output.stderr)")
        }
    }

    static var pytestAvailable: Bool {
        (try? ChildProcess.run("/usr/bin/env", ["python3", "-m", "pytest", "--version"]).status) == 0
    }

    static func flakySuite(_ folder: TemporaryFolder) throws {
        try folder.write("tests/test_rerun.py", """
            import pathlib

            def test_ok():
                pass

            def test_flaky():
                marker = pathlib.Path(__file__).with_name("ran_once")
                if not marker.exists():
                    marker.write_text("x")
                    assert False, "fails the first time"

            def test_always():
                assert 1 == 2, "never passes"
            """)
    }

    @Test(.enabled(if: pytestAvailable, "needs python3 with pytest"))
    func retriesListEachFailingTestOnceAndCountFlakyOnes() async throws {
        let folder = try TemporaryFolder("arun-retries")
        try Self.flakySuite(folder)
        let output = try Arun(folder).run(["run", "tests", "-n", "1", "--retries", "2", "--db", folder.file("r.db")])
        #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
        let summary = output.stdout.components(separatedBy: "failures:\n").last ?? ""
        #expect(summary.components(separatedBy: "  FAILED tests/test_rerun.py::test_always").count - 1 == 1,
                "listed once after three attempts: \(output.stdout)")
        #expect(!summary.contains("test_flaky"), "\(output.stdout)")
        #expect(output.stdout.contains("1 failed, 2 passed, 1 flaky"), "\(output.stdout)")
    }

    @Test(.enabled(if: pytestAvailable, "needs python3 with pytest"))
    func rerunFailedRunsFailingTestsAgainAndFindsFlakyOnes() async throws {
        let folder = try TemporaryFolder("arun-rerun")
        try Self.flakySuite(folder)
        let arun = Arun(folder)
        let db = folder.file(".arun/rerun.db")
        let first = try arun.run(["run", "tests", "-n", "1", "--db", db])
        #expect(first.status == 1, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("2 failed, 1 passed"), "\(first.stdout)")

        let rerun = try arun.run(["rerun", "--failed", "--db", db, "-n", "2"])
        #expect(rerun.status == 1, "test_always still fails: \(rerun.stdout)\(rerun.stderr)")
        #expect(rerun.stdout.contains("run 1: 2 failing tests queued again"), "\(rerun.stdout)")
        #expect(rerun.stdout.contains("1 failed, 2 passed, 1 flaky"), "\(rerun.stdout)")
        #expect(rerun.stdout.components(separatedBy: "FAILED tests/test_rerun.py::test_always").count - 1 >= 1)
        #expect(!rerun.stdout.contains("FAILED tests/test_rerun.py::test_flaky -"), "the flaky test is not listed as failing at the end")

        let report = try arun.run(["report", "--db", db, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        #expect((object["totals"] as? [String: Int])?["flaky"] == 1)
        let tests = try #require(object["tests"] as? [[String: Any]])
        let always = try #require(tests.first { ($0["nodeid"] as? String)?.hasSuffix("test_always") == true })
        #expect(always["attempts"] as? Int == 2 && always["outcome"] as? String == "failed")
        let ok = try #require(tests.first { ($0["nodeid"] as? String)?.hasSuffix("test_ok") == true })
        #expect(ok["attempts"] as? Int == 1, "passing tests are not rerun")

        // Nothing failing left but test_always: a second rerun runs it again (attempt 3).
        let again = try arun.run(["rerun", "--failed", "1", "--db", db])
        #expect(again.status == 1 && again.stdout.contains("1 failing test queued again"), "\(again.stdout)")

        let junit = try arun.run(["report", "--db", db, "--format", "junit", "-o", "junit.xml"])
        #expect(junit.status == 0)
        let xml = try String(contentsOfFile: folder.file("junit.xml"), encoding: .utf8)
        #expect(xml.contains("<flakyFailure message=\"attempt 1: AssertionError: fails the first time"), "\(xml)")
        #expect(xml.components(separatedBy: "<rerunFailure ").count - 1 == 2, "test_always's attempts 1 and 2")
    }
}
