import Foundation
import GRDB
@testable import Queue
import TestSupport
import Testing

/// What runs, and what the user is shown, compared with pytest itself on real suites.
@Suite(.serialized) struct SelectionTests {
    /// Sibling files and folders at every level, marks and parametrize.
    static func siblings() throws -> ArunHarness {
        let arun = try ArunHarness("arun-select")
        try arun.folder.write("pytest.ini", "[pytest]\nmarkers =\n    fast: f\n    slow: s\n")
        let body = """
            import pytest

            @pytest.mark.fast
            def test_a():
                pass

            @pytest.mark.slow
            def test_b():
                pass

            @pytest.mark.parametrize("n", [1, 2])
            def test_p(n):
                pass

            """
        for file in ["test_top.py", "tests/test_stop.py", "tests/test_more.py", "tests/sub/test_sub.py",
                     "tests/sub/test_sub2.py", "tests/sub/deep/test_deep.py", "tests/other/test_other.py",
                     "tests/other/deep/test_odeep.py"] {
            try arun.folder.write(file, body)
        }
        return arun
    }

    /// The node ids `pytest --collect-only ARGS` selects.
    static func pytestIDs(_ arun: ArunHarness, _ arguments: [String]) throws -> Set<String> {
        let output = try ChildProcess.run("/usr/bin/env", ["python3", "-m", "pytest", "--collect-only", "-q",
                                                           "-p", "no:cacheprovider"] + arguments,
                                          directory: arun.folder.path)
        return Set(output.stdout.split(separator: "\n").map(String.init).filter { $0.contains("::") })
    }

    static func json(_ text: String) -> [String: Any] {
        let line = text.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? "{}"
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
    }

    static let pathCases: [[String]] = [
        ["tests/sub"], ["tests/sub/test_sub.py"], ["tests/sub/deep"], ["tests"], [],
        ["tests/sub", "tests/other/test_other.py"], ["tests/other/deep", "test_top.py"],
        ["tests/sub/test_sub.py::test_p"],
    ]

    @Test(arguments: pathCases.indices)
    func pathsSelectWhatPytestSelects(_ index: Int) throws {
        let paths = Self.pathCases[index]
        let arun = try Self.siblings()
        let expected = try Self.pytestIDs(arun, paths)
        #expect(!expected.isEmpty)
        let dry = try arun.arun(["enqueue", "--dry-run", "--json"] + paths)
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
        let plan = Self.json(dry.stdout)
        #expect(plan["tests"] as? Int == expected.count, "\(paths): dry run \(plan) vs pytest \(expected.count)")
        if let files = plan["files"] as? Int {
            #expect(files == Set(expected.map { $0.components(separatedBy: "::")[0] }).count, "\(paths): \(plan)")
        }
        let output = try arun.arun(["run", "-n", "2"] + paths)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(Set(try arun.results().map(\.nodeid)) == expected, "\(paths)")
    }

    @Test func pytestOptionsReachEveryPytest() throws {
        let arun = try Self.siblings()
        // Selection: -k and -m as pytest applies them.
        let selected = ["tests", "-k", "test_p or test_a", "-m", "not slow"]
        let output = try arun.arun(["run", "-n", "2", "-v", "-q", "--tb=short", "-rA", "-p", "no:cacheprovider"] + selected)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(Set(try arun.results().map(\.nodeid)) == (try Self.pytestIDs(arun, selected)))

        // -m with --dist-mark narrows each group; a value after --dist-mark naming a path is a path.
        let groups = try arun.arun(["enqueue", "--dry-run", "--json", "--dist-mark", "fast", "not fast", "tests/sub",
                                    "-m", "not slow"])
        #expect(groups.status == 0, "\(groups.stdout)\(groups.stderr)")
        let plan = Self.json(groups.stdout)
        let counts = Dictionary(((plan["groups"] as? [[String: Any]]) ?? []).map {
            ($0["name"] as? String ?? "", $0["tests"] as? Int ?? -1)
        }, uniquingKeysWith: { a, _ in a })
        #expect(counts["fast"] == (try Self.pytestIDs(arun, ["tests/sub", "-m", "fast and not slow"])).count, "\(plan)")
        #expect(counts["not fast"] == (try Self.pytestIDs(arun, ["tests/sub", "-m", "not fast and not slow"])).count)
        let marked = try arun.arun(["run", "--dist-mark", "fast", "tests/sub"])
        #expect(marked.status == 0, "\(marked.stdout)\(marked.stderr)")
        #expect(Set(try arun.results(run: 2).map(\.nodeid)) == (try Self.pytestIDs(arun, ["tests/sub", "-m", "fast"])))
    }

    @Test func pytestOptionsChangeOutcomesAsInPytest() throws {
        let arun = try ArunHarness("arun-options")
        try arun.folder.write("tests/test_x.py", """
            import warnings
            import pytest

            @pytest.mark.xfail(reason="known")
            def test_xfail():
                assert False

            @pytest.mark.xfail(reason="fixed")
            def test_xpass():
                pass

            def test_warns():
                warnings.warn("careful", UserWarning)

            def test_plain():
                pass
            """)
        for extra in [["-o", "xfail_strict=true", "-W", "error::UserWarning", "-v"], ["--runxfail", "-r", "a"]] {
            let reference = try SerialPytest.counts(in: arun.folder.path, arguments: ["tests"] + extra)
            let output = try arun.arun(["run", "-n", "2", "tests"] + extra)
            let ours = SerialPytest.parseSummary(output.stdout)
            for key in ["failed", "passed", "xfailed", "xpassed", "warning"] {
                #expect(ours[key, default: 0] == reference[key, default: 0], "\(extra) \(key): \(ours) vs \(reference)")
            }
        }
    }

    static let refusals: [(arguments: [String], words: String)] = [
        (["run", "--retries=-1"], "--retries"),
        (["run", "--retries", "-1"], "--retries"),
        (["run", "-n", "-1"], "-n"),
        (["run", "-n", "100000"], "at most"),
        (["run", "--test-timeout", "0"], "--test-timeout"),
        (["run", "--lease", "0"], "--lease"),
        (["run", "--maxfail", "0"], "--maxfail"),
        (["run", "--tb", "bogus"], "traceback style"),
        (["run", "--dist-mark", "tests/sub"], "mark expression"),
        (["run", "--strategy", "x.yaml", "--no-strategy"], "--no-strategy"),
        (["enqueue", "--shard-count", "0"], "--shard-count"),
        (["work", "-n", "0"], "-n"),
        (["run", "nope/"], "no such file"),
        (["run", "--durations", "missing.json"], "durations file"),
        (["run", "--strategy", "missing.yaml"], "strategy file"),
        (["run", "--dist-suite", "missing"], "not a directory"),
    ]

    @Test(arguments: refusals.indices)
    func everyOptionIsCheckedBeforeAnythingIsWritten(_ index: Int) throws {
        let arun = try Self.siblings()
        let (arguments, words) = Self.refusals[index]
        let output = try arun.arun(arguments)
        #expect(output.status == 4, "\(arguments): \(output.stdout)\(output.stderr)")
        #expect(output.stderr.split(separator: "\n").count == 1, "\(output.stderr)")
        #expect(output.stderr.contains(words), "\(output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: arun.db), "nothing written for \(arguments)")
    }

    @Test func neverMoreWorkersThanJobs() throws {
        let arun = try Self.siblings()
        let single = try arun.arun(["run", "tests/sub/test_sub.py", "-n", "8"])
        #expect(single.status == 0, "\(single.stdout)\(single.stderr)")
        let folder = try arun.arun(["run", "tests/sub", "-n", "40"])
        #expect(folder.status == 0, "\(folder.stdout)\(folder.stderr)")
        // arun work -n auto: the CPU count, and no more than the jobs.
        let planned = try arun.arun(["enqueue", "tests/sub/test_sub.py", "tests/other"])
        #expect(planned.status == 0, "\(planned.stdout)\(planned.stderr)")
        let work = try arun.arun(["work", "-n", "auto", "--run", "3"])
        #expect(work.status == 0, "\(work.stdout)\(work.stderr)")
        let workers3 = try arun.queue().readSync { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM workers WHERE run_id = 3") ?? -1
        }
        let jobs3 = try arun.queue().readSync { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE run_id = 3") ?? -1 }
        #expect(workers3 == min(ProcessInfo.processInfo.activeProcessorCount, jobs3), "\(workers3) workers, \(jobs3) jobs")
        for run in [Int64(1), 2] {
            let (workers, jobs) = try arun.queue().readSync { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM workers WHERE run_id = ?", arguments: [run]) ?? -1,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE run_id = ?", arguments: [run]) ?? -1)
            }
            #expect(workers >= 1 && workers <= jobs, "run \(run): \(workers) workers for \(jobs) jobs")
        }
    }

    @Test func collectionErrorsAreShownAsPytestShowsThem() throws {
        let arun = try ArunHarness("arun-collect-errors")
        try arun.folder.write("tests/test_ok.py", "def test_ok():\n    pass\n")
        try arun.folder.write("tests/test_syntax.py", "import os\n\ndef test_y(:\n    pass\n")
        try arun.folder.write("tests/test_raise.py", "raise ValueError('bad config value')\n")
        // Both keep collecting after an error, so every file's error is shown (arun stops
        // at the first job with one otherwise, as pytest stops the session).
        let pytest = try ChildProcess.run("/usr/bin/env", ["python3", "-m", "pytest", "-p", "no:cacheprovider", "tests",
                                                           "--continue-on-collection-errors"],
                                          directory: arun.folder.path)
        let pytestLines = Set(pytest.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        func check(_ text: String, _ label: String) {
            for file in ["tests/test_syntax.py", "tests/test_raise.py"] {
                #expect(text.contains("ERROR collecting \(file)"), "\(label): \(text)")
            }
            #expect(text.contains("E   SyntaxError: invalid syntax"), "\(label): \(text)")
            #expect(text.contains("E   ValueError: bad config value"), "\(label): \(text)")
            #expect(text.contains("raise ValueError('bad config value')"), "\(label): \(text)")
            // Every line of a block is a line pytest printed too.
            let shown = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0.hasPrefix("E ") || $0.hasPrefix("tests/test_raise.py:1:") }
            #expect(!shown.isEmpty && shown.allSatisfy(pytestLines.contains), "\(label): \(shown)")
        }
        let run = try arun.arun(["run", "-n", "2", "--", "--continue-on-collection-errors"])
        check(run.stdout, "arun run")
        check(try arun.arun(["report"]).stdout, "arun report")
        _ = try arun.arun(["enqueue", "tests", "--", "--continue-on-collection-errors"])
        let work = try arun.arun(["work", "--run", "2"])
        check(work.stdout, "arun work")
    }

    @Test func warningsAreCountedAsPytestCountsThem() throws {
        let arun = try ArunHarness("arun-warnings")
        try arun.folder.write("pytest.ini", "[pytest]\n")
        try arun.folder.write("tests/test_w.py", """
            import warnings
            import pytest

            @pytest.mark.unknownmark
            def test_one():
                warnings.warn("first", UserWarning)

            def test_two():
                warnings.warn("a", UserWarning)
                warnings.warn("b", DeprecationWarning)

            def test_none():
                pass
            """)
        try arun.folder.write("tests/test_v.py", "import warnings\nwarnings.warn('at import', UserWarning)\n\ndef test_v():\n    pass\n")
        let reference = try SerialPytest.counts(in: arun.folder.path, arguments: ["tests"])
        #expect(reference["warning", default: 0] >= 4, "\(reference)")
        let output = try arun.arun(["run", "-n", "1", "tests"])
        #expect(SerialPytest.parseSummary(output.stdout)["warning"] == reference["warning"], "\(output.stdout) vs \(reference)")
        let report = try arun.arun(["report", "--format", "json"])
        let totals = (try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["totals"] as? [String: Any]
        #expect(totals?["warnings"] as? Int == reference["warning"], "\(String(describing: totals))")
    }

    @Test func consoleEscapesControlCharactersAsTheTextReport() throws {
        let arun = try ArunHarness("arun-escape")
        try arun.folder.write("tests/test_e.py", """
            def test_bell():
                assert False, "\\x1b]0;title\\x07 and \\x1b[2J cleared"
            """)
        let output = try arun.arun(["run", "-n", "1"])
        #expect(output.status == 1)
        let controls = output.stdout.unicodeScalars.filter { $0.value < 0x20 && $0 != "\n" }
        #expect(controls.isEmpty, "raw control characters: \(controls.map(\.value))")
        let report = try arun.arun(["report"]).stdout
        let runLine = output.stdout.split(separator: "\n").first { $0.contains("FAILED") && $0.contains("test_bell") }
        let message: String? = runLine.flatMap { line in
            line.range(of: " - ").map { String(line[$0.upperBound...]).trimmingCharacters(in: .whitespaces) }
        }
        #expect(message != nil && message!.contains("\\x07"), "\(output.stdout)")
        #expect(message.map { report.contains($0) } == true, "same escaping: \(message ?? "-") in \(report)")
    }

    @Test func dryRunCountsTheTestsOfFilePlans() throws {
        let arun = try Self.siblings()
        for (arguments, pytestPaths) in [(["tests"], ["tests"]), (["--dist-file", "tests/sub"], ["tests/sub"]),
                                         (["--dist-suite", "tests"], ["tests"])] {
            let output = try arun.arun(["enqueue", "--dry-run", "--json"] + arguments)
            let plan = Self.json(output.stdout)
            #expect(plan["tests"] as? Int == (try Self.pytestIDs(arun, pytestPaths)).count, "\(arguments): \(plan)")
            #expect(plan["tests_from"] as? String == "collection")
            let text = try arun.arun(["enqueue", "--dry-run"] + arguments)
            #expect(text.stdout.contains("counted by collecting them"), "\(text.stdout)")
        }
    }

    @Test func strategyFileIsNamedAndCanBeIgnored() throws {
        let arun = try Self.siblings()
        try arun.folder.write("conf/dist_strategy.yaml", "target: ['main']\nmarks:\n  main:\n    - fast\n")
        let all = try Self.pytestIDs(arun, ["tests"])
        let fast = try Self.pytestIDs(arun, ["tests", "-m", "fast"])
        let output = try arun.arun(["run", "tests/"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        let first = output.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains("conf/dist_strategy.yaml") && first.contains("--no-strategy"), "\(first)")
        #expect(Set(try arun.results().map(\.nodeid)) == fast)
        #expect(output.stdout.contains("\(all.count - fast.count) tests matched no group and did not run"), "\(output.stdout)")
        let ignored = try arun.arun(["run", "tests/", "--no-strategy"])
        #expect(ignored.status == 0)
        #expect(!ignored.stdout.contains("strategy file"))
        #expect(Set(try arun.results(run: 2).map(\.nodeid)) == all)
    }

    @Test func colourFollowsPytestOnATerminal() throws {
        let arun = try ArunHarness("arun-colour")
        try arun.folder.write("tests/test_c.py", """
            import warnings

            def test_ok():
                warnings.warn("careful", UserWarning)

            def test_bad():
                assert False
            """)
        let esc = "\u{1B}["
        // pytest's own painted counts, forced on (its PY_COLORS), as the reference.
        let pytest = try ChildProcess.run("/usr/bin/env", ["python3", "-m", "pytest", "-p", "no:cacheprovider", "tests"],
                                          directory: arun.folder.path, environment: ["PY_COLORS": "1"])
        let painted = ["\(esc)31m\(esc)1m1 failed\(esc)0m", "\(esc)32m1 passed\(esc)0m", "\(esc)33m1 warning\(esc)0m"]
        for part in painted { #expect(pytest.stdout.contains(part), "pytest paints \(part.debugDescription)") }
        // A real terminal (script(1) gives arun a pty): colours on by default, off with NO_COLOR or --color no.
        let command = ([Executables.arun] + arun.arguments(["run", "-n", "1"])).map { "'\($0)'" }.joined(separator: " ")
        func onTerminal(_ extra: String, environment: [String: String] = [:]) throws -> String {
            // Whatever colour settings the test runner has are not the user's.
            let cleared = ["-u", "NO_COLOR", "-u", "PY_COLORS", "-u", "FORCE_COLOR", "TERM=xterm"]
                + environment.map { "\($0.key)=\($0.value)" }
            return try ChildProcess.run("/usr/bin/env", cleared + ["/usr/bin/script", "-qec", command + extra, "/dev/null"],
                                        directory: arun.folder.path).stdout
        }
        let terminal = try onTerminal("")
        for part in painted { #expect(terminal.contains(part), "arun paints \(part.debugDescription): \(terminal.debugDescription)") }
        // The progress line clears itself with an escape; the totals line after it is what counts.
        let summary = { (text: String) in
            text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                .map { $0.replacingOccurrences(of: "\u{1B}[2K", with: "") }
                .last { $0.hasPrefix("run ") && $0.contains(" in ") } ?? ""
        }
        #expect(!summary(try onTerminal("", environment: ["NO_COLOR": "1"])).contains(esc))
        #expect(!summary(try onTerminal(" --color no")).contains(esc))
        // Not a terminal: plain, unless --color yes.
        #expect(!(try arun.arun(["run", "-n", "1"])).stdout.contains(esc))
        #expect((try arun.arun(["run", "-n", "1", "--color", "yes"])).stdout.contains(painted[1]))
    }
}
