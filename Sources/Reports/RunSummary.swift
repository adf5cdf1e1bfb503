import Foundation
import Queue

/// The totals of a run as pytest would print them, from each test's final attempt.
public struct RunSummary: Sendable, Equatable {
    public var run: Run
    /// Final outcome counts, by outcome.
    public var outcomes: [Outcome: Int]
    /// Extra "error" entries pytest counts beside a test's own outcome (teardown failures).
    public var teardownErrors: Int
    /// Tests the run holds.
    public var tests: Int
    /// Tests with no result yet.
    public var pending: Int
    public var collectionErrors: Int
    /// Failed subtests, which pytest 9 adds to "failed".
    public var failedSubtests: Int
    public var wallSeconds: Double
    public var jobs: JobCounts
    /// Tests whose final attempt passed after an earlier attempt failed.
    public var flaky: Int = 0

    public subscript(outcome: Outcome) -> Int { outcomes[outcome, default: 0] }

    public var failures: Int {
        Outcome.allCases.filter(\.isFailure).reduce(0) { $0 + self[$1] } + teardownErrors
    }

    /// pytest's exit code for this run: 2 interrupted, unfinished or collection errors,
    /// 1 failures (and flaky tests when `failOnFlaky`), 5 nothing ran, 0 otherwise.
    /// A flaky test passed in the end, so by default it does not fail the run.
    public func exitCode(interrupted: Bool, collectionErrorsFail: Bool = true, failOnFlaky: Bool = false) -> Int32 {
        if interrupted || pending > 0 { return 2 }
        if collectionErrors > 0 && collectionErrorsFail { return 2 }
        if failures > 0 || failedSubtests > 0 { return 1 }
        if failOnFlaky && flaky > 0 { return 1 }
        if tests == 0 { return 5 }
        return 0
    }

    /// `3 failed, 10 passed, 1 flaky, 1 skipped in 4.20s`, pytest's order and words;
    /// flaky tests are also counted in "passed".
    public var line: String {
        var parts: [String] = []
        func add(_ count: Int, _ word: String) { if count > 0 { parts.append("\(count) \(word)") } }
        add(self[.failed] + failedSubtests, "failed")
        add(self[.passed], "passed")
        add(flaky, "flaky")
        add(self[.skipped], "skipped")
        add(self[.xfailed], "xfailed")
        add(self[.xpassed], "xpassed")
        add(self[.error] + teardownErrors, self[.error] + teardownErrors == 1 ? "error" : "errors")
        add(self[.crashed], "crashed")
        add(self[.timeout], "timeout")
        add(self[.notRun], "not run")
        add(pending, "pending")
        add(collectionErrors, collectionErrors == 1 ? "collection error" : "collection errors")
        if parts.isEmpty { parts.append("no tests ran") }
        return parts.joined(separator: ", ") + " in " + String(format: "%.2fs", wallSeconds)
    }

    /// Reads the summary of `run`.
    public static func load(run id: RunID, from reader: some RunReader) async throws -> RunSummary {
        let run = try await reader.runOrLatest(id)
        return try await make(run: run, tests: reader.tests(run: id, output: false), reader: reader)
    }

    /// The summary from the run's tests and a few small reads.
    static func make(run: Run, tests: [StoredTest], reader: some RunReader) async throws -> RunSummary {
        let tally = Tally(tests)
        return RunSummary(
            run: run, outcomes: tally.outcomes, teardownErrors: tally.teardown, tests: tests.count,
            pending: tests.count - tally.withResult,
            collectionErrors: try await reader.collectionErrors(run: run.id).count, failedSubtests: tally.subtests,
            // The invocations' own time once one has ended (no idle gaps between a run and
            // its resume or rerun); while the first still runs, the span of its jobs.
            wallSeconds: run.activeSeconds > 0 ? run.activeSeconds : try await reader.span(run: run.id).seconds,
            jobs: try await reader.counts(run: run.id), flaky: tally.flaky)
    }

    /// Counts final attempts the way pytest counts them.
    struct Tally {
        var outcomes: [Outcome: Int] = [:]
        var teardown = 0
        var subtests = 0
        var flaky = 0
        var withResult = 0

        init(_ tests: [StoredTest]) {
            var byOutcome = [Int](repeating: 0, count: Outcome.allCases.count)
            let order = Dictionary(uniqueKeysWithValues: Outcome.allCases.enumerated().map { ($1, $0) })
            for test in tests {
                guard let final = test.final else { continue }
                withResult += 1
                byOutcome[order[final.outcome] ?? 0] += 1
                if test.flaky { flaky += 1 }
                if let extra = final.extra {
                    if extra.teardownError { teardown += 1 }
                    // A pass followed by a teardown error: pytest counts the pass and the error.
                    if extra.callOutcome == .passed { byOutcome[order[.passed] ?? 0] += 1 }
                    subtests += extra.failedSubtests
                }
            }
            for (outcome, position) in order where byOutcome[position] > 0 { outcomes[outcome] = byOutcome[position] }
        }
    }
}
