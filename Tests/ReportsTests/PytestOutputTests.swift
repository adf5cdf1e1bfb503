import Foundation
import Queue
import Reports
import TestSupport
import Testing

/// Real runs of `arun run` on a suite that prints, logs and fails in every phase, checked
/// against what a serial `pytest` prints for the same suite and arguments, and the JUnit
/// file against the Jenkins xUnit plugin's schema and `junitparser`.
@Suite(.enabled(if: Arun.available, "needs the built arun (swift build)"))
struct PytestOutputTests {
    /// `arguments` run by `env` at pytest's default width, on CI (pytest then prints whole
    /// messages in the short summary) or not (it cuts them to the width).
    static func run(_ arguments: [String], in folder: TemporaryFolder, ci: Bool) throws -> ProcessOutput {
        let environment = ci ? ["CI=true"] : ["-u", "CI", "-u", "BUILD_NUMBER"]
        return try ChildProcess.run("/usr/bin/env", environment + ["COLUMNS=80"] + arguments, directory: folder.path,
                                    timeout: 600)
    }

    static func writeSuite(_ folder: TemporaryFolder) throws {
        try folder.write("pytest.ini", "[pytest]\n")
        try folder.write("tests/conftest.py", """
            import pytest

            @pytest.fixture
            def noisy():
                print("setup out")
                yield
                print("teardown out")
                raise RuntimeError("teardown exploded")

            @pytest.fixture
            def broken():
                print("setting up broken")
                raise RuntimeError("fixture exploded")
            """)
        try folder.write("tests/test_out.py", """
            import logging
            import sys

            import pytest

            log = logging.getLogger("suite")

            def test_fail_everywhere(noisy):
                print("call out")
                print("call err", file=sys.stderr)
                log.warning("warned %s", 1)
                assert 1 == 2, "one is not two"

            def test_setup_error(broken):
                pass

            def test_teardown_only(noisy):
                print("passing body")

            def test_passes_loudly():
                print("ok out")
                log.error("logged but passed")

            def test_quiet():
                pass

            @pytest.mark.skip(reason="not today")
            def test_skip_mark():
                pass

            def test_skip_inline():
                pytest.skip("inline reason")

            @pytest.mark.xfail(reason="known bug")
            def test_xfail():
                assert False

            @pytest.mark.xfail(reason="fixed meanwhile")
            def test_xpass():
                pass

            @pytest.mark.parametrize("n", [1, 2, 3])
            def test_param(n):
                print(f"param {n}")
                assert n != 2, f"two is right out {'x' * 90}"
            """)
        try folder.write("tests/deep/test_more.py", """
            class TestGroup:
                def test_long_traceback(self):
                    def inner(depth):
                        if depth == 0:
                            raise ValueError("deep down")
                        return inner(depth - 1)
                    inner(20)

                def test_huge_output(self):
                    print("x" * 200_000)
                    assert False
            """)
    }

    /// The lines from pytest's first `=== ERRORS|FAILURES ===` section to its short summary,
    /// as a multiset of blocks (headline and body), keyed by section.
    static func blocks(_ text: String, until stop: (String) -> Bool) -> [String: [String]] {
        // Object addresses (`<X object at 0x7f…>`) differ from process to process.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
                .replacingOccurrences(of: "0x[0-9a-f]+", with: "0x…", options: .regularExpression)
        }
        let sections = ["ERRORS", "FAILURES", "PASSES", "XPASSES"]
        guard let first = lines.firstIndex(where: { line in
            line.hasPrefix("==") && sections.contains { line.contains(" \($0) ") }
        }) else { return [:] }
        var out: [String: [String]] = [:]
        var section = ""
        var block: [String] = []
        func flush() {
            if !block.isEmpty { out[section, default: []].append(block.joined(separator: "\n")) }
            block = []
        }
        for line in lines[first...] {
            if stop(line) { break }
            if line.hasPrefix("=="), let name = sections.first(where: { line.contains(" \($0) ") }) {
                flush()
                section = name
            } else if line.hasPrefix("__"), line.hasSuffix("__") {
                flush()
                block = [line]
            } else {
                block.append(line)
            }
        }
        flush()
        // Captured output is capped per test (pytest prints all of it): that test is checked apart.
        return out.mapValues {
            $0.map { $0.trimmingCharacters(in: .newlines) }.filter { !$0.isEmpty && !$0.contains("test_huge_output") }.sorted()
        }
    }

    static func shortSummary(_ text: String) -> [String] {
        let lines = text.split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(where: { $0.contains(" short test summary info ") }) else { return [] }
        // A line per test; a multi-line message (on CI) continues on the next lines.
        let words = ["PASSED ", "FAILED ", "ERROR ", "SKIPPED ", "XFAIL ", "XPASS "]
        var entries: [String] = []
        for line in lines[(start + 1)...] {
            if words.contains(where: { line.hasPrefix($0) }) {
                entries.append(line)
            } else if line.hasPrefix("=") || line.hasPrefix("wall ") || entries.isEmpty {
                break
            } else {
                entries[entries.count - 1] += "\n" + line
            }
        }
        return entries.sorted()
    }

    @Test func failureSectionsAndShortSummaryMatchPytest() throws {
        let folder = try TemporaryFolder("arun-pytest-output")
        try Self.writeSuite(folder)
        let arun = Arun(folder)
        let run = try Self.run([Executables.arun, "run", "-n", "2", "--db", "out.db", "--", "-rA"], in: folder, ci: false)
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        for ci in [false, true] {
            let report = try Self.run([Executables.arun, "report", "--db", "out.db"], in: folder, ci: ci)
            #expect(report.status == 0, "\(report.stderr)")
            let pytest = try Self.run(["python3", "-m", "pytest", "-rA", "-p", "no:cacheprovider"], in: folder, ci: ci)
            #expect(pytest.status == 1, "\(pytest.stdout)")

            let expected = Self.blocks(pytest.stdout) { $0.contains(" short test summary info ") }
            let arunStops = ["FLAKY (", "SLOWEST ", "WORKERS", "MERGE PROBLEMS", "COLLECTION ERRORS"]
            let got = Self.blocks(report.stdout) { line in
                line.contains(" short test summary info ") || arunStops.contains { line.hasPrefix($0) }
            }
            #expect(Set(expected.keys) == ["ERRORS", "FAILURES", "PASSES"], "\(pytest.stdout)")
            for section in Set(expected.keys).union(got.keys) {
                let blocks = expected[section] ?? []
                let mine = got[section] ?? []
                #expect(mine == blocks, "CI \(ci): \(section) differs from pytest's:\n--- pytest\n\(blocks.joined(separator: "\n~~~\n"))\n--- arun\n\(mine.joined(separator: "\n~~~\n"))")
            }
            #expect(Self.shortSummary(report.stdout) == Self.shortSummary(pytest.stdout),
                    "CI \(ci): short test summary:\n\(report.stdout)\n--- pytest:\n\(pytest.stdout)")
            #expect(Self.shortSummary(pytest.stdout).count >= 14, "\(pytest.stdout)")
        }

        let report = try Self.run([Executables.arun, "report", "--db", "out.db"], in: folder, ci: false)
        // The failing test's own `def` line is there (a 15-line excerpt used to cut it), and
        // output is capped per test.
        #expect(report.stdout.contains("    def test_long_traceback(self):"))
        let json = try arun.run(["report", "--db", "out.db", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let tests = try #require(object["tests"] as? [[String: Any]])
        func test(_ suffix: String) throws -> [String: Any] {
            try #require(tests.first { ($0["nodeid"] as? String)?.hasSuffix(suffix) == true }, "\(suffix)")
        }
        let fail = try test("::test_fail_everywhere")
        let titles = (fail["sections"] as? [[String: String]])?.compactMap { $0["title"] }
        #expect(titles == ["Captured stdout setup", "Captured stdout call", "Captured stderr call", "Captured log call",
                           "Captured stdout teardown"], "\(fail)")
        #expect((fail["details"] as? String)?.contains("assert 1 == 2") == true)
        let huge = try test("::test_huge_output")
        let hugeText = (huge["sections"] as? [[String: String]])?.first?["text"] ?? ""
        #expect(hugeText.utf8.count <= 32 * 1024 && hugeText.hasPrefix("[... "), "capped, the end kept: \(hugeText.prefix(80))")
        #expect(try test("::test_quiet")["sections"] == nil, "passed quietly: nothing stored")
        #expect(try test("::test_passes_loudly")["sections"] != nil, "-rA: passed tests' output too")
    }

    @Test func junitValidatesAndJunitparserCountsArunsTotals() throws {
        let folder = try TemporaryFolder("arun-junit")
        try Self.writeSuite(folder)
        try folder.write("tests/test_flaky.py", """
            import pathlib

            def test_flaky_once():
                marker = pathlib.Path(__file__).with_name("flaky.marker")
                if not marker.exists():
                    marker.write_text("failed once")
                    assert False, "first attempt fails"
            """)
        let arun = Arun(folder)
        let run = try arun.run(["run", "-n", "2", "--db", "out.db", "--retries", "1"], timeout: 600)
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        let written = try arun.run(["report", "--db", "out.db", "--format", "junit", "-o", "junit.xml"])
        #expect(written.status == 0 || written.status == 1, "\(written.stderr)")
        #expect(try XMLLint.problems(folder.file("junit.xml")) == [])
        let xml = try String(contentsOfFile: folder.file("junit.xml"), encoding: .utf8)
        #expect(xml.contains("<flakyFailure message=\"attempt 1: AssertionError: first attempt fails"), "Surefire's rerun elements")
        #expect(xml.contains("<rerunFailure "), "still failing after the retry")

        let json = try arun.run(["report", "--db", "out.db", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let totals = try #require(object["totals"] as? [String: Int])
        let tests = try #require(object["tests"] as? [[String: Any]])
        let read = try ChildProcess.run("/usr/bin/env", ["python3", "-c", """
            import json, sys
            from junitparser import JUnitXml
            xml = JUnitXml.fromfile(sys.argv[1])
            cases = [case for suite in xml for case in suite]
            print(json.dumps({"tests": xml.tests, "failures": xml.failures, "errors": xml.errors,
                              "skipped": sum(suite.skipped or 0 for suite in xml), "cases": len(cases),
                              "passed": sum(1 for case in cases if case.is_passed),
                              "case_failures": sum(1 for case in cases if case.is_failure),
                              "case_errors": sum(1 for case in cases if case.is_error)}))
            """, folder.file("junit.xml")])
        #expect(read.status == 0, "junitparser: \(read.stderr)")
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [String: Int])
        let total = { (names: [String]) in names.reduce(0) { $0 + (totals[$1] ?? 0) } }
        #expect(counts["tests"] == tests.count && counts["cases"] == tests.count)
        #expect(counts["failures"] == total(["failed", "crashed", "timeout"]))
        #expect(counts["errors"] == total(["error"]))
        #expect(counts["skipped"] == total(["skipped", "xfailed", "not_run", "pending"]))
        #expect(counts["passed"] == total(["passed", "xpassed"]))
        #expect(counts["case_failures"] == counts["failures"] && counts["case_errors"] == counts["errors"])
        #expect(totals["flaky"] == 1 && totals["failed"] == 4 && totals["error"] == 2, "\(totals)")
    }

    @Test func allureGetsExactlyOneResultPerTest() throws {
        let check = try ChildProcess.run("/usr/bin/env", ["python3", "-c", "import allure_pytest"])
        #expect(check.status == 0, "allure-pytest is missing: pip install allure-pytest")
        guard check.status == 0 else { return }
        let folder = try TemporaryFolder("arun-allure")
        try Self.writeSuite(folder)
        try Suites.trivial(in: folder, files: 6, perFile: 20, folders: 3)
        let arun = Arun(folder)
        let run = try arun.run(["run", "-n", "2", "--db", "out.db", "--", "--alluredir", "allure"], timeout: 600)
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        let json = try arun.run(["report", "--db", "out.db", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let tests = try #require(object["tests"] as? [[String: Any]])
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.file("allure"))
            .filter { $0.hasSuffix("-result.json") }
        var seen: [String: Int] = [:]
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder.file("allure/\(file)")))
            let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let name = (result["fullName"] as? String ?? "") + " " + String(describing: result["parameters"] ?? "")
            seen[name, default: 0] += 1
        }
        #expect(files.count == tests.count, "one result file per test: \(files.count) files, \(tests.count) tests")
        #expect(seen.count == tests.count, "none missing")
        #expect(seen.values.allSatisfy { $0 == 1 }, "none twice: \(seen.filter { $0.value > 1 })")
    }
}
