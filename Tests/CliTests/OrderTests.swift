import Foundation
import GRDB
@testable import Queue
import TestSupport
import Testing

/// Tests that pass or fail by the order their pytest process ran them in (issue 16, item 3):
/// two `arun run`s of the same plan, and the report of the second naming exactly the tests
/// whose outcomes differ, with both runs' attempts.
@Suite(.serialized) struct OrderTests {
    /// A module that warns at its first import only, tests that pass only when they see the
    /// warning (the first to import it in their process) or only when they do not, and plain tests.
    static func warningSuite(_ arun: ArunHarness) throws {
        try arun.folder.write("tests/noisy.py", "import warnings\nwarnings.warn('noisy imported', UserWarning)\n")
        let importing = """
            import warnings

            def imported_with_warning():
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter('always')
                    import noisy
                return any('noisy imported' in str(w.message) for w in caught)

            """
        for index in 1...3 {
            try arun.folder.write("tests/test_first_\(index).py", importing + """
                def test_sees_warning():
                    assert imported_with_warning(), 'noisy was imported earlier in this process'
                """)
            try arun.folder.write("tests/test_later_\(index).py", importing + """
                def test_sees_no_warning():
                    assert not imported_with_warning(), 'the first to import noisy in this process'
                """)
            try arun.folder.write("tests/test_plain_\(index).py", (1...4).map {
                "def test_plain_\($0)():\n    import time\n    time.sleep(0.02)\n"
            }.joined(separator: "\n"))
        }
    }

    func json(_ arun: ArunHarness, run: Int) throws -> [String: Any] {
        let output = try arun.arun(["report", "--run", "\(run)", "--format", "json"])
        try #require(output.status == 0, "\(output.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
    }

    /// nodeid → (outcome, worker) from a JSON report.
    func outcomes(_ report: [String: Any]) -> [String: (outcome: String, worker: String?)] {
        var outcomes: [String: (outcome: String, worker: String?)] = [:]
        for test in report["tests"] as? [[String: Any]] ?? [] {
            if let nodeid = test["nodeid"] as? String, let outcome = test["outcome"] as? String {
                outcomes[nodeid] = (outcome, test["worker"] as? String)
            }
        }
        return outcomes
    }

    @Test func secondRunNamesEveryTestWhoseOutcomeDiffers() throws {
        let arun = try ArunHarness("arun-order")
        try Self.warningSuite(arun)
        for run in 1...2 {
            let output = try arun.arun(["run", "-n", "2"])
            #expect([0, 1].contains(output.status), "run \(run): \(output.stdout)\(output.stderr)")
        }
        let first = outcomes(try json(arun, run: 1)), second = outcomes(try json(arun, run: 2))
        #expect(first.count == 18 && Set(first.keys) == Set(second.keys), "\(first.keys)")
        let differing = Set(second.keys.filter { first[$0]?.outcome != second[$0]?.outcome })
        let unnamed = try arun.queue().readSync { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results WHERE process IS NULL OR worker IS NULL") ?? -1
        }
        #expect(unnamed == 0, "every result names its worker and pytest process")

        let report = try json(arun, run: 2)
        let order = try #require(report["order"] as? [String: Any], "run 1 has the same plan")
        #expect(order["compared_run"] as? Int == 1 && order["same_plan"] as? Bool == true)
        let listed = order["tests"] as? [[String: Any]] ?? []
        #expect(Set(listed.compactMap { $0["nodeid"] as? String }) == differing, "\(listed) vs \(differing)")
        for test in listed {
            let nodeid = try #require(test["nodeid"] as? String)
            // The outcome is a function of what ran before it in its process: a difference
            // always comes with another history.
            #expect(test["order_dependent"] as? Bool == true, "\(test)")
            let attempts = test["attempts"] as? [[String: Any]] ?? []
            #expect(attempts.map { $0["run"] as? Int } == [2, 1])
            #expect(attempts.map { $0["outcome"] as? String } == [second[nodeid]?.outcome, first[nodeid]?.outcome])
            #expect(attempts.map { $0["worker"] as? String } == [second[nodeid]?.worker, first[nodeid]?.worker])
        }

        let text = try arun.arun(["report", "--run", "2"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("ORDER-DEPENDENT (") == !differing.isEmpty, "\(text.stdout)")
        for nodeid in differing { #expect(text.stdout.contains("  \(nodeid)\n"), "\(nodeid) in \(text.stdout)") }
        #expect(!text.stdout.contains("FLAKY BETWEEN RUNS"))
        // The first run has no earlier run of its plan: nothing to show.
        let firstText = try arun.arun(["report", "--run", "1"])
        let firstOrder = try json(arun, run: 1)["order"]
        #expect(!firstText.stdout.contains("ORDER-DEPENDENT") && firstOrder is NSNull)
        print("order: \(differing.count) of 18 tests differed between the two runs: \(differing.sorted())")
    }

    /// Every result names its pytest process: a crash ends one, and the crashed test's
    /// result belongs to it, the tests after it to the next.
    @Test func resultsNameTheProcessThatRanThem() throws {
        let arun = try ArunHarness("arun-order")
        try arun.folder.write("tests/test_crash.py", """
            import os, signal

            def test_before():
                pass

            def test_segfault():
                os.kill(os.getpid(), signal.SIGSEGV)

            def test_after_segfault():
                pass

            def test_exit():
                os._exit(3)

            def test_last():
                pass
            """)
        let output = try arun.arun(["run", "-n", "1"])
        #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
        let rows = try arun.queue().readSync { db in
            try Row.fetchAll(db, sql: """
                SELECT t.nodeid, r.outcome, r.worker, r.process FROM results r JOIN tests t ON t.id = r.test_id
                ORDER BY r.started_at
                """).map { (String($0[0] as String).split(separator: ":").last.map(String.init) ?? "",
                             $0[1] as String, $0[2] as String?, $0[3] as Int32?) }
        }
        #expect(rows.map(\.0) == ["test_before", "test_segfault", "test_after_segfault", "test_exit", "test_last"], "\(rows)")
        #expect(rows.map(\.1) == ["passed", "crashed", "passed", "crashed", "passed"], "\(rows)")
        #expect(Set(rows.map(\.2)).count == 1 && rows.allSatisfy { $0.3 != nil && $0.3 != 0 }, "\(rows)")
        let processes = rows.map(\.3)
        #expect(processes.count == 5 && processes[0] == processes[1] && processes[1] != processes[2]
                && processes[2] == processes[3] && processes[3] != processes[4] && processes[0] != processes[4], "\(rows)")
    }

    /// Forced differences: in the second run an environment variable swaps two tests (one
    /// needs the other to have run first in its process) and fails a test that runs first
    /// in both runs. One worker, one file: the same order every time.
    @Test func forcedDifferencesAreOrderDependentOrFlaky() throws {
        let arun = try ArunHarness("arun-order")
        try arun.folder.write("tests/conftest.py", """
            import os

            def pytest_collection_modifyitems(items):
                if os.environ.get('ARUN_TEST_SWAP') == '1':
                    names = [item.name for item in items]
                    if 'test_early' in names and 'test_needs_early' in names:
                        a, b = names.index('test_early'), names.index('test_needs_early')
                        items[a], items[b] = items[b], items[a]
            """)
        try arun.folder.write("tests/test_order.py", """
            import os

            RAN = []

            def test_flip():
                assert os.environ.get('ARUN_TEST_FLIP') != '1', 'flipped by ARUN_TEST_FLIP'

            def test_early():
                RAN.append('early')

            def test_needs_early():
                assert 'early' in RAN, 'test_early did not run before me in this process'
            """)
        let first = try arun.arun(["run", "-n", "1"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let second = try ChildProcess.run(Executables.arun, arun.arguments(["run", "-n", "1"]), directory: arun.folder.path,
                                          environment: ["ARUN_TEST_SWAP": "1", "ARUN_TEST_FLIP": "1"])
        #expect(second.status == 1, "\(second.stdout)\(second.stderr)")

        let text = try arun.arun(["report"])
        let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func block(_ title: String) -> [String] {
            guard let start = lines.firstIndex(where: { $0.hasPrefix(title) }) else { return [] }
            return Array(lines[start...].prefix { !$0.isEmpty })
        }
        let dependent = block("ORDER-DEPENDENT (1): outcome differs, compared with run 1, the latest earlier run of the same plan")
        #expect(dependent.count == 4, "\(text.stdout)")
        #expect(dependent.dropFirst().first == "  tests/test_order.py::test_needs_early")
        #expect(dependent.count == 4 && dependent[2].hasPrefix("    run 2: failed on ") && dependent[2].hasSuffix(
            "after 1 test in its process (files: tests/test_order.py; just before: tests/test_order.py::test_flip)"),
                "\(dependent)")
        #expect(dependent.count == 4 && dependent[3].hasPrefix("    run 1: passed on ") && dependent[3].hasSuffix(
            "after 2 tests in its process (files: tests/test_order.py; just before: tests/test_order.py::test_early)"),
                "\(dependent)")
        let flaky = block("FLAKY BETWEEN RUNS (1)")
        #expect(flaky.count == 4 && flaky[1] == "  tests/test_order.py::test_flip", "\(text.stdout)")
        #expect(flaky.count == 4 && flaky[2].hasPrefix("    run 2: failed on ") && flaky[2].hasSuffix(", first in its process"))
        #expect(flaky.count == 4 && flaky[3].hasPrefix("    run 1: passed on ") && flaky[3].hasSuffix(", first in its process"))

        let markdown = try arun.arun(["report", "--format", "markdown"]).stdout
        #expect(markdown.contains("Order-dependent tests (1 order-dependent, 1 flaky between runs; compared with run 1"), "\(markdown)")
        #expect(markdown.contains("| `tests/test_order.py::test_needs_early` | order-dependent | run 2: failed"))
        #expect(markdown.contains("| `tests/test_order.py::test_flip` | flaky between runs | run 2: failed"))
        let html = try arun.arun(["report", "--format", "html"]).stdout
        #expect(html.contains("<h2>Order-dependent tests (2)</h2>") && html.contains("<td>flaky between runs</td>"))
        let order = try #require(try json(arun, run: 2)["order"] as? [String: Any])
        let tests = order["tests"] as? [[String: Any]] ?? []
        #expect(tests.map { $0["nodeid"] as? String } == ["tests/test_order.py::test_flip", "tests/test_order.py::test_needs_early"])
        #expect(tests.map { $0["order_dependent"] as? Bool } == [false, true])
        let before = (tests.last?["attempts"] as? [[String: Any]] ?? []).map { $0["tests_before"] as? Int }
        #expect(before == [1, 2], "\(tests)")

        // Compared with itself-like runs: naming a run explicitly, and a run that is not there.
        let explicit = try arun.arun(["report", "--compare", "1"])
        #expect(explicit.stdout.contains("ORDER-DEPENDENT (1): outcome differs, compared with run 1;"), "\(explicit.stdout)")
        let missing = try arun.arun(["report", "--compare", "9"])
        #expect(missing.status == 4 && missing.stderr == "arun: no run 9 in this database: list runs with `arun runs`\n",
                "\(missing.stderr)")
    }
}
