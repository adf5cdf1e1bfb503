import Foundation
import Queue
import TestSupport
import Testing

/// A run's stored settings carry it through later commands: real pytest, real processes.
@Suite(.serialized) struct SettingsTests {
    /// `arun run` shards record their slice, so a merge of two of three names the third.
    @Test func mergedRunShardsNameTheMissingShard() async throws {
        let folder = try TemporaryFolder("arun-shards")
        try Suites.trivial(in: folder, files: 6, perFile: 3)
        for index in 0..<2 {
            let output = try ChildProcess.run(Executables.arun, [
                "run", "--shard-count", "3", "--shard-index", String(index), "-n", "1", "--db", folder.file("s\(index).db"),
            ], directory: folder.path, timeout: 300)
            #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        }
        let merged = try ChildProcess.run(Executables.arun, [
            "report", "--merge", folder.file("s0.db"), folder.file("s1.db"), "--format", "json",
        ], directory: folder.path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(merged.stdout.utf8)) as? [String: Any],
                                  "\(merged.stdout)\(merged.stderr)")
        let merge = try #require(object["merge"] as? [String: Any], "\(merged.stdout)")
        #expect(merge["missing_shards"] as? [Int] == [2], "\(merge)")
        #expect(merge["shard_count"] as? Int == 3, "\(merge)")
        #expect(merged.stderr.contains("shards 2 of 3 missing"), "\(merged.stderr)")
        let stored = try SQLiteQueue(path: folder.file("s1.db")).runOrLatest(nil).settings
        #expect(stored.shard == RunSettings.Shard(index: 1, count: 3))
        #expect(stored.version == RunSettings.currentVersion && stored.mode == "auto" && stored.planning == "files")
    }

    /// `rerun --failed` keeps the run's `--test-timeout`: a hanging test times out again
    /// instead of hanging the rerun (issue #12, item 5).
    @Test func rerunKeepsTheTestTimeoutOfTheRun() async throws {
        let arun = try ArunHarness("arun-rerun-timeout")
        try arun.folder.write("tests/test_hang.py", """
            import time

            def test_ok():
                pass

            def test_hang():
                time.sleep(600)
            """)
        let first = try arun.arun(["run", "-n", "1", "--test-timeout", "3"])
        #expect(first.status == 1, "\(first.stdout)\(first.stderr)")
        let stored = try arun.queue().runOrLatest(nil).settings
        #expect(stored.testTimeout == 3 && stored.workers == 1, "\(stored)")

        let started = Date()
        let rerun = try arun.arun(["rerun", "--failed"], timeout: 240)
        #expect(rerun.status == 1, "\(rerun.stdout)\(rerun.stderr)")
        #expect(Date().timeIntervalSince(started) < 200, "the rerun did not wait for the hanging test")
        let hang = try arun.results().filter { $0.nodeid.hasSuffix("test_hang") }.sorted { $0.attempt < $1.attempt }
        #expect(hang.map(\.outcome) == ["timeout", "timeout"], "\(hang)")
        #expect(hang.map(\.attempt) == [1, 2])
    }

    /// Settings of earlier arun versions (numbers as strings, the shard as "I/N") are
    /// still read; options given again override the stored ones.
    @Test func settingsReadEarlierVersionsAndGivenOptionsOverride() {
        let old = RunSettings(json: #"{"mode":"auto","planning":"files","shard":"1/3","workers":"2"}"#)
        #expect(old.version == 0 && old.mode == "auto" && old.workers == 2)
        #expect(old.shard == RunSettings.Shard(index: 1, count: 3))
        let stored = RunSettings(mode: "auto", workers: 4, lease: 30, testTimeout: 5, maxFail: 1, retries: 2)
        #expect(RunSettings(json: stored.json) == stored, "\(stored.json)")
        let resumed = stored.overridden(by: RunSettings(workers: 2, testTimeout: 9))
        #expect(resumed.workers == 2 && resumed.testTimeout == 9)
        #expect(resumed.lease == 30 && resumed.maxFail == 1 && resumed.retries == 2 && resumed.mode == "auto")
        #expect(RunSettings(json: "not json") == RunSettings(), "unreadable settings leave every field unset")
    }
}
