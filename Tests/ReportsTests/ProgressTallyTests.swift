import Foundation
import GRDB
@testable import Queue
import Reports
import TestSupport
import Testing

/// Live progress from what is new: the same counts as the whole-run summary, read in
/// pieces, through indexes that serve `seq > N`.
@Suite struct ProgressTallyTests {
    @Test func incrementalCountsMatchTheSummaryAndEachFailureShowsOnce() async throws {
        let folder = try TemporaryFolder("arun-progress")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        var tally = ProgressTally()
        var failures: [ResultChange] = []
        // Three results at a time, as a tick would meet them.
        while true {
            let changes = try await queue.results(of: writer.run.id, after: tally.lastSeq, limit: 3)
            if changes.isEmpty { break }
            failures += tally.add(results: changes)
        }
        tally.add(tests: try await queue.tests(of: writer.run.id, after: 0, limit: 1_000))
        let summary = try await RunSummary.load(run: writer.run.id, from: queue)
        for outcome in Outcome.allCases {
            #expect(tally[outcome] == summary[outcome], "\(outcome): \(tally.words) vs \(summary.line)")
        }
        #expect(tally.done == summary.tests - summary.pending)
        #expect(tally.expected == summary.tests && !tally.estimated)
        // test_still_failing failed twice and test_flaky once: each is printed once.
        let printed = failures.compactMap(\.nodeid)
        #expect(Set(printed).count == printed.count, "\(printed)")
        #expect(printed.contains("tests/test_b.py::test_flaky"))
        #expect(tally.words.contains("xfailed") && tally.words.contains("xpassed") && tally.words.contains("crashed"),
                "pytest's words, not folded into passed/failed: \(tally.words)")
        #expect(try await queue.results(of: writer.run.id, after: tally.lastSeq, limit: 10).isEmpty)
    }

    @Test func theDenominatorComesFromThePlanAndSaysWhenItGuesses() {
        var tally = ProgressTally()
        tally.learnPlan(files: [("a.py", 10), ("b.py", nil), ("c.py", nil)], openSeconds: 6)
        #expect(tally.expected == 10 + 10 + 10 && tally.estimated, "unknown files count as the average known file")
        tally.add(tests: (1...4).map { RegisteredTest(id: TestID($0), file: "b.py") })
        #expect(tally.expected == 10 + 4 + 7 && tally.estimated, "\(String(describing: tally.expected))")
        tally.add(tests: [RegisteredTest(id: 5, file: "c.py")])
        #expect(tally.expected == 15 && !tally.estimated, "every file known")
        tally.add(tests: (6...15).map { RegisteredTest(id: TestID($0), file: "a.py") })
        #expect(tally.expected == 15 && tally.registered == 15)
    }

    @Test func incrementalReadsUseTheirIndexes() async throws {
        let folder = try TemporaryFolder("arun-progress")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let plans = try queue.readSync { db in
            [
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT seq FROM results WHERE run_id = ? AND seq > ? ORDER BY seq",
                                 arguments: [writer.run.id, 0]),
                try Row.fetchAll(db, sql: """
                    EXPLAIN QUERY PLAN SELECT COUNT(*) FROM results INDEXED BY results_failing
                    WHERE run_id = ? AND outcome IN ('failed', 'error', 'crashed', 'timeout')
                    """, arguments: [writer.run.id]),
            ].map { $0.map { $0["detail"] as String }.joined(separator: "; ") }
        }
        #expect(plans[0].contains("results_by_seq") && !plans[0].contains("TEMP B-TREE"), "\(plans[0])")
        #expect(plans[1].contains("results_failing"), "\(plans[1])")
        let scanned = try queue.readSync { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM results NOT INDEXED WHERE run_id = ? AND outcome IN ('failed', 'error', 'crashed', 'timeout')
                """, arguments: [writer.run.id]) ?? 0
        }
        let counted = try await queue.failureCount(run: writer.run.id)
        #expect(scanned > 0 && counted == scanned, "every failing attempt: \(counted) of \(scanned)")
    }
}
