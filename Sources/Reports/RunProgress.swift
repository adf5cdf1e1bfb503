import Foundation
import Queue

/// A run's progress at one moment: what a live status line shows.
public struct RunProgress: Sendable, Equatable {
    public var tests: Int
    /// Tests with at least one result.
    public var done: Int
    /// Tests whose latest attempt passed (or xfailed, xpassed).
    public var passed: Int
    /// Tests whose latest attempt failed (failed, error, crashed, timeout).
    public var failed: Int
    public var runningJobs: Int
    public var openJobs: Int

    /// Counts the final attempt of every test of the run: a test retried three times
    /// counts once.
    public static func load(run: RunID, from reader: some RunReader) async throws -> RunProgress {
        let counts = try await reader.progress(run: run)
        let jobs = try await reader.counts(run: run)
        return RunProgress(tests: counts.tests, done: counts.done, passed: counts.passed, failed: counts.failed,
                           runningJobs: jobs[.running], openJobs: jobs.open)
    }
}

extension FailureLine {
    /// Tests whose final attempt is a failure recorded after `since`, oldest first.
    /// A test retried and failing again is listed once, with its final attempt; a test
    /// that failed and then passed (flaky) is not listed.
    public static func load(run: RunID, since: Double, from reader: some RunReader, limit: Int = 50) async throws
        -> [FailureLine] {
        try await reader.failures(run: run, since: since, limit: limit)
    }
}
