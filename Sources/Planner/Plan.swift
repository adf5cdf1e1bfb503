import Foundation
import Pytest
import Queue

/// The jobs a run will hold, and what the planner noticed making them.
public struct Plan: Sendable {
    /// A group as the summary shows it.
    public struct GroupSummary: Sendable, Equatable, Codable {
        public var name: String
        public var tests: Int
    }

    public var jobs: [NewJob]
    public var groups: [GroupSummary]
    /// Tests the jobs run (after sharding).
    public var tests: Int
    /// Tests no group chose.
    public var unmatched: Int
    /// Tests two groups chose (run once, in the first).
    public var duplicates: Int
    public var warnings: [String]
    public var collectionErrors: [CollectionProblem]
    /// Estimated busy seconds per worker (LPT over the job estimates).
    public var workerSeconds: [Double]
    /// Paths pytest collected; workers pass the same so rootdir and conftests match.
    public var collectPaths: [String]
    public var rootdir: String
    /// Test files the jobs name, for plans of whole files (their tests are collected by
    /// the workers; `tests` then counts those known from earlier runs). Nil otherwise.
    public var files: Int? = nil

    /// The JSON summary `arun enqueue --json` prints (run is nil for --dry-run).
    public func summaryJSON(run: RunID?) -> String {
        struct Summary: Encodable {
            var run: RunID?
            var jobs: Int
            var tests: Int
            var groups: [GroupSummary]
            var unmatched: Int
            var duplicates: Int
            var collection_errors: Int
            var estimated_worker_seconds: [Double]
            var files: Int?
        }
        let summary = Summary(run: run, jobs: jobs.count, tests: tests, groups: groups, unmatched: unmatched,
                              duplicates: duplicates, collection_errors: collectionErrors.count,
                              estimated_worker_seconds: workerSeconds.map { ($0 * 10).rounded() / 10 }, files: files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(summary), as: UTF8.self)) ?? "{}"
    }
}
