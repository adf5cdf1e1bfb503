import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GRDB
@testable import Queue
import Reports
import TestSupport
import Testing

/// History across runs, merged shard reports, durations export and import.
@Suite struct HistoryMergeTests {
    static let target = "tests/test_api.py::test_login[admin]"

    @Test func historyAcrossThreeRuns() async throws {
        let folder = try TemporaryFolder("arun-history")
        let (queue, clock) = try RunWriter.open(folder.file("history.db"))
        // Run 1: passes. Run 2: fails. Run 3: fails, then passes on the retry (flaky).
        let first = try await RunWriter.start(queue, clock: clock, name: "one")
        try await first.job("api", worker: "w", [Outcomes(Self.target, .passed, duration: 1.0),
                                                 Outcomes("tests/test_api.py::test_logout", .passed)])
        try await first.finish()
        let second = try await RunWriter.start(queue, clock: clock)
        try await second.job("api", worker: "w", [Outcomes(Self.target, .failed, duration: 2.0, message: "AssertionError: 401")])
        try await second.finish()
        let third = try await RunWriter.start(queue, clock: clock)
        try await third.job("api", worker: "w", [Outcomes(Self.target, .failed, duration: 3.0, message: "timeout")])
        try await third.job("retry", worker: "w", attempt: 2, [Outcomes(Self.target, .passed, duration: 1.5)])
        try await third.finish()

        let history = try await TestHistory.load(nodeid: Self.target, from: queue)
        #expect(history.entries.map(\.run) == [third.run.id, second.run.id, first.run.id])
        #expect(history.entries.map(\.status) == ["passed", "failed", "passed"])
        #expect(history.entries.map(\.flaky) == [true, false, false])
        #expect(history.entries[0].attempts == 2 && history.entries[0].outcomes == [.failed, .passed])
        #expect(history.entries.map(\.duration) == [1.5, 2.0, 1.0])
        #expect(abs((history.flakyRate ?? 0) - 1.0 / 3) < 1e-9)
        #expect(abs((history.failureRate ?? 0) - 1.0 / 3) < 1e-9)
        #expect(abs((history.meanDuration ?? 0) - 1.5) < 1e-9)
        #expect(history.text.contains("flaky rate 33%, failure rate 33%"), "\(history.text)")
        #expect(history.text.contains("AssertionError: 401"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(history.json.utf8)) as? [String: Any])
        #expect(json["nodeid"] as? String == Self.target)
        #expect((json["runs"] as? [[String: Any]])?.count == 3)
        #expect(abs((json["flaky_rate"] as? Double ?? 0) - 0.333333) < 1e-6)

        await #expect(throws: ReportError.unknownTest("test_login", suggestions: [Self.target])) {
            try await TestHistory.load(nodeid: "test_login", from: queue)
        }
        await #expect(throws: ReportError.unknownTest("nothing_like_it", suggestions: [])) {
            try await TestHistory.load(nodeid: "nothing_like_it", from: queue)
        }
    }

    /// Shard `index` of 3: its own tests, plus the shared ones it was (wrongly) given.
    static func shard(_ folder: TemporaryFolder, index: Int, count: Int = 3, paths: [String] = ["tests"],
                      tests: [Outcomes], pending: [String] = []) async throws -> String {
        let path = folder.file("shard\(index).db")
        let (queue, clock) = try RunWriter.open(path, clock: ManualClock(1_700_000_000 + Double(index)))
        let writer = try await RunWriter.start(queue, clock: clock, paths: paths,
                                               settings: #"{"mode":"automatic","shard":"\#(index)/\#(count)","workers":"2"}"#)
        try await writer.worker("m\(index)-w0")
        try await writer.job("shard \(index)", worker: "m\(index)-w0", tests)
        if !pending.isEmpty { try await writer.unclaimed("late", pending) }
        try await writer.finish(workers: ["m\(index)-w0"])
        return path
    }

    @Test func mergeOfThreeShardDatabases() async throws {
        let folder = try TemporaryFolder("arun-merge")
        let a = try await Self.shard(folder, index: 0, tests: [
            Outcomes("tests/test_a.py::test_1", .passed), Outcomes("tests/test_a.py::test_2", .failed, message: "boom"),
            Outcomes("tests/test_shared.py::test_twice", .passed),
        ])
        let b = try await Self.shard(folder, index: 1, tests: [
            Outcomes("tests/test_b.py::test_1", .passed), Outcomes("tests/test_shared.py::test_twice", .passed),
        ], pending: ["tests/test_late.py::test_never"])
        let c = try await Self.shard(folder, index: 2, tests: [
            Outcomes("tests/test_c.py::test_1", .skipped, message: "later"), Outcomes("tests/test_c.py::test_2", .passed),
        ])
        let report = try await RunReport.merge(paths: [a, b, c], output: true, open: open)
        #expect(report.sources.count == 3)
        #expect(report.tests.count == 7, "the shared test once, the pending one once")
        let merge = try #require(report.merge)
        #expect(merge.duplicates.map(\.nodeid) == ["tests/test_shared.py::test_twice"])
        #expect(merge.duplicates.first?.sources == [0, 1])
        #expect(merge.missing == ["tests/test_late.py::test_never"])
        #expect(merge.missingShards.isEmpty && merge.shardCount == 3)
        #expect(report.totals["passed"] == 4 && report.totals["failed"] == 1 && report.totals["skipped"] == 1)
        #expect(report.totals["pending"] == 1)
        #expect(report.workerCount == 3)
        #expect(report.status == "incomplete")

        let text = report.render(.text)
        #expect(text.contains("MERGE PROBLEMS"))
        #expect(text.contains("tests/test_shared.py::test_twice (shard0.db, shard1.db)"), "\(text)")
        #expect(text.contains("missing from every shard (1):\n    tests/test_late.py::test_never"))
        #expect(text.contains("merged 3 shards"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.render(.json).utf8)) as? [String: Any])
        #expect((json["sources"] as? [[String: Any]])?.count == 3)
        let mergeObject = try #require(json["merge"] as? [String: Any])
        #expect(mergeObject["missing"] as? [String] == ["tests/test_late.py::test_never"])
        #expect(((json["tests"] as? [[String: Any]])?.compactMap { $0["source"] as? Int }).map(Set.init) == [0, 1, 2])
        let junit = report.render(.junit)
        _ = try XMLDocument(xmlString: junit, options: [])
        let mergedPath = try folder.write("merged.xml", junit)
        #expect(try XMLLint.problems(mergedPath) == [])
        #expect(report.render(.html).contains("missing from every shard"))

        // Two of three shards: the third is named missing.
        let partial = try await RunReport.merge(paths: [a, c], open: open)
        #expect(partial.merge?.missingShards == [1])
    }

    @Test func mergeRefusesDifferentSuitesAndBadLists() async throws {
        let folder = try TemporaryFolder("arun-merge")
        let a = try await Self.shard(folder, index: 0, tests: [Outcomes("tests/test_a.py::test_1", .passed)])
        let other = try await Self.shard(folder, index: 1, paths: ["other_tests"],
                                         tests: [Outcomes("other_tests/test_x.py::test_1", .passed)])
        do {
            _ = try await RunReport.merge(paths: [a, other], open: open)
            Issue.record("merged different suites")
        } catch let error as ReportError {
            guard case .differentSuites = error else { Issue.record("wrong error \(error)"); return }
            #expect(error.description.contains("tests vs other_tests"), "\(error)")
            #expect(!error.description.contains("\n") && error.exitCode == 4)
        }
        let differentCount = try await Self.shard(folder, index: 2, count: 4,
                                                  tests: [Outcomes("tests/test_b.py::test_1", .passed)])
        await #expect(throws: ReportError.self) { try await RunReport.merge(paths: [a, differentCount], open: open) }
        await #expect(throws: ReportError.badMerge("got \(a) twice")) { try await RunReport.merge(paths: [a, a], open: open) }
        await #expect(throws: ReportError.self) { try await RunReport.merge(paths: [a], open: open) }
        await #expect(throws: ReportError.self) { try await RunReport.merge(paths: [a, folder.file("nope.db")], open: open) }
        #expect(!FileManager.default.fileExists(atPath: folder.file("nope.db")), "a missing shard is not created")
    }

    @Test func durationsExportImportAndPlannerDurations() async throws {
        let folder = try TemporaryFolder("arun-durations")
        let (queue, clock) = try RunWriter.open(folder.file("durations.db"))
        let first = try await RunWriter.start(queue, clock: clock)
        try await first.job("j", worker: "w", [Outcomes("tests/a.py::test_1", .passed, duration: 1.0),
                                               Outcomes("tests/a.py::test_2", .skipped, duration: 0),
                                               Outcomes("tests/a.py::test_3", .failed, duration: 4.0)])
        try await first.finish()
        let second = try await RunWriter.start(queue, clock: clock)
        try await second.job("j", worker: "w", [Outcomes("tests/a.py::test_1", .passed, duration: 2.0)])
        try await second.finish()

        let exported = try await Durations.export(from: queue)
        #expect(exported == ["tests/a.py::test_1": 2.0, "tests/a.py::test_3": 4.0], "latest, skips left out")
        let json = Durations.json(exported)
        #expect(json == "{\n    \"tests/a.py::test_1\": 2,\n    \"tests/a.py::test_3\": 4\n}\n")

        // pytest-split's file, object or list form, into a fresh database.
        let fresh = try SQLiteQueue(path: folder.file("fresh.db"))
        let parsed = try Durations.parse(Data(#"{"tests/a.py::test_1": 0.5, "tests/b.py::test_9": 7.25}"#.utf8), path: "d.json")
        #expect(try await Durations.importDurations(parsed, into: fresh) == 2)
        #expect(try await Durations.imported(from: fresh) == parsed)
        #expect(try await plannerDurations(queue: fresh) == parsed)
        #expect(try Durations.parse(Data(#"[["x::y", 1.5]]"#.utf8), path: "old.json") == ["x::y": 1.5])
        #expect(throws: ReportError.self) { try Durations.parse(Data("[1, 2]".utf8), path: "bad.json") }
        #expect(throws: ReportError.self) { try Durations.parse(Data(#"{"a": "slow"}"#.utf8), path: "bad.json") }
        #expect(throws: ReportError.self) { try Durations.parse(Data(#"{"a": -1}"#.utf8), path: "bad.json") }
        #expect(throws: ReportError.self) { try Durations.parse(Data("not json".utf8), path: "bad.json") }

        // Measured durations win over imported ones; imported ones fill the gaps.
        try await Durations.importDurations(["tests/a.py::test_1": 9.0, "tests/z.py::test_new": 3.0], into: queue)
        let planned = try await plannerDurations(queue: queue)
        #expect(planned["tests/a.py::test_1"] == 2.0)
        #expect(planned["tests/z.py::test_new"] == 3.0)
        #expect(planned["tests/a.py::test_3"] == 4.0)
        // Re-importing replaces.
        try await Durations.importDurations(["tests/z.py::test_new": 5.0], into: queue)
        #expect(try await Durations.imported(from: queue)["tests/z.py::test_new"] == 5.0)
        #expect(try await Durations.export(from: queue)["tests/z.py::test_new"] == 5.0)
    }

    @Test func runListingLines() async throws {
        let folder = try TemporaryFolder("arun-runs")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let summary = try await RunSummary.load(run: writer.run.id, from: queue)
        let line = RunListing.jsonLine(summary)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["run"] as? Int == 1 && object["status"] as? String == "complete" && object["name"] as? String == "nightly")
        #expect(object["flaky"] as? Int == 1 && object["failures"] as? Int == 6 && object["tests"] as? Int == 12)
        #expect((object["totals"] as? [String: Int])?["not_run"] == 1)
        #expect((object["wall_seconds"] as? Double ?? 0) > 0)
        let text = RunListing.textLine(summary)
        #expect(text.contains("complete") && text.contains("3 failed, 2 passed, 1 flaky") && text.hasSuffix("nightly"))
    }
}

/// Opens a shard database for merging.
private let open: @Sendable (String) throws -> any RunReader = { try SQLiteQueue(path: $0) }
