import Foundation
import Queue

/// `arun report --merge A.db B.db …`: one report from the databases of a suite's
/// static shards (`--shard-count N --shard-index I` on N machines).
extension RunReport {
    /// Merges the latest run of each database. Refuses databases of different suites
    /// (different test paths, split mode or shard count); names tests present in two
    /// shards and tests (and shards) missing from all of them.
    /// `open` opens one database for reading.
    public static func merge(paths: [String], output: Bool = false,
                             open: (String) throws -> any RunReader) async throws -> RunReport {
        guard paths.count >= 2 else { throw ReportError.badMerge("needs at least two databases, got \(paths.count)") }
        var seen = Set<String>()
        for path in paths {
            let resolved = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            guard FileManager.default.fileExists(atPath: resolved) else {
                throw ReportError.badMerge("cannot find \(path): give existing shard databases")
            }
            guard seen.insert(resolved).inserted else { throw ReportError.badMerge("got \(path) twice") }
        }
        var parts: [RunReport] = []
        for path in paths {
            let reader = try open(URL(fileURLWithPath: path).standardizedFileURL.path)
            let run = try await reader.runOrLatest(nil).id
            parts.append(try await load(run: run, from: reader, output: output))
        }
        let first = parts[0]
        for part in parts.dropFirst() {
            if let reason = Suite(first.run).difference(from: Suite(part.run)) {
                throw ReportError.differentSuites(first: first.sources[0].path, other: part.sources[0].path,
                                                  reason: reason)
            }
        }
        return combine(parts)
    }

    /// What makes two runs shards of one suite.
    struct Suite: Equatable {
        var paths: [String]
        var mode: String
        var shardCount: String?

        init(_ run: Run) {
            let directory = run.directory
            paths = run.paths.map { path in
                if path == directory { return "." }
                if !directory.isEmpty, path.hasPrefix(directory + "/") { return String(path.dropFirst(directory.count + 1)) }
                return path
            }.sorted()
            mode = run.settings.mode ?? ""
            shardCount = run.settings.shard.map { String($0.count) }
        }

        func difference(from other: Suite) -> String? {
            if paths != other.paths {
                return "test paths \(paths.joined(separator: " ")) vs \(other.paths.joined(separator: " "))"
            }
            if mode != other.mode { return "split mode \(mode) vs \(other.mode)" }
            if shardCount != other.shardCount {
                return "shard count \(shardCount ?? "none") vs \(other.shardCount ?? "none")"
            }
            return nil
        }
    }

    static func combine(_ parts: [RunReport]) -> RunReport {
        var sources: [Source] = []
        var tests: [TestRecord] = []
        var jobs: [JobRecord] = []
        var workers: [WorkerStat] = []
        var errors: [CollectionProblem] = []
        var holders: [String: [Int]] = [:]      // node id → sources with a result for it
        var position: [String: Int] = [:]       // node id → index in `tests`
        var order: [String] = []
        for (index, part) in parts.enumerated() {
            sources.append(part.sources[0])
            for var test in part.tests {
                test.source = index
                if test.outcome != nil { holders[test.nodeid, default: []].append(index) }
                if let existing = position[test.nodeid] {
                    // Keep the first record with a result.
                    if tests[existing].outcome == nil && test.outcome != nil { tests[existing] = test }
                } else {
                    position[test.nodeid] = tests.count
                    order.append(test.nodeid)
                    tests.append(test)
                }
            }
            jobs += part.jobs.map { job in
                var job = job
                job.source = index
                return job
            }
            workers += part.workers
            for problem in part.collectionErrors where !errors.contains(problem) { errors.append(problem) }
        }
        let duplicates = order.compactMap { nodeid -> (nodeid: String, sources: [Int])? in
            guard let found = holders[nodeid], found.count > 1 else { return nil }
            return (nodeid, found)
        }
        // Node id order, as one run's report (SQLite's byte order).
        tests.sort { $0.nodeid.utf8.lexicographicallyPrecedes($1.nodeid.utf8) }
        let missing = tests.filter { $0.outcome == nil }.map(\.nodeid)

        // Shard coverage from the runs' settings.
        var indexes = Set<Int>()
        var count: Int?
        for part in parts {
            if let shard = part.run.settings.shard {
                indexes.insert(shard.index)
                count = shard.count
            }
        }
        let missingShards = count.map { total in (0..<total).filter { !indexes.contains($0) } } ?? []

        var summary = parts[0].summary
        for part in parts.dropFirst() {
            for (outcome, number) in part.summary.outcomes { summary.outcomes[outcome, default: 0] += number }
            summary.teardownErrors += part.summary.teardownErrors
            summary.collectionErrors += part.summary.collectionErrors
            summary.failedSubtests += part.summary.failedSubtests
            for (state, number) in part.summary.jobs.byState { summary.jobs.byState[state, default: 0] += number }
        }
        if !duplicates.isEmpty {
            // A test run by two shards counts once, with the outcome the report keeps.
            summary.outcomes = [:]
            for test in tests { if let outcome = test.outcome { summary.outcomes[outcome, default: 0] += 1 } }
        }
        summary.tests = tests.count
        summary.pending = missing.count
        summary.flaky = tests.filter(\.flaky).count
        let starts = jobs.compactMap(\.startedAt)
        let ends = jobs.compactMap(\.finishedAt)
        if let start = starts.min() { summary.wallSeconds = max(0, (ends.max() ?? start) - start) }

        return RunReport(
            sources: sources, summary: summary, tests: tests, jobs: jobs, workers: workers,
            collectionErrors: errors,
            merge: MergeProblems(duplicates: duplicates, missing: missing, missingShards: missingShards,
                                 shardCount: count))
    }
}
