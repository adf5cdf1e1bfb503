import Foundation
import Planner
import Pytest
import Queue
import TestSupport
import Testing

/// The planner on real suites: pytest collects, the planner groups and shards.
@Suite struct PlannerCollectionTests {
    static func markedSuite() throws -> TemporaryFolder {
        let folder = try TemporaryFolder("arun-plan")
        try folder.write("pytest.ini", """
            [pytest]
            python_files = check_*.py test_*.py
            markers =
                iaas_image_p2: x
                iaas_volume_p2: x
                iaas_network_p2: x
                hpc_sw: x
                hpc_fs: x
                smoke: x
            """)
        let marks = ["iaas_image_p2", "iaas_volume_p2", "iaas_network_p2", "hpc_sw", "hpc_fs"]
        for (index, mark) in marks.enumerated() {
            try folder.write("suite\(index % 2)/check_\(mark).py", """
                import pytest

                @pytest.mark.\(mark)
                @pytest.mark.parametrize("n", range(\(index + 2)))
                def test_\(mark)(n):
                    pass

                @pytest.mark.smoke
                @pytest.mark.\(mark)
                def test_\(mark)_smoke():
                    pass
                """)
        }
        try folder.write("suite0/test_unmarked.py", "def test_plain():\n    pass\n")
        try folder.write("conf/aomaker.yaml", manualExample)
        return folder
    }

    @Test func seedStrategyGivesFiveGroups() async throws {
        let folder = try Self.markedSuite()
        let plan = try await Planner().plan(PlanRequest(mode: .strategy(file: "conf/aomaker.yaml"), workers: 2,
                                                        directory: folder.path))
        #expect(plan.groups.map(\.name) == ["iaas_image_p2", "iaas_volume_p2", "iaas_network_p2", "hpc_sw", "hpc_fs"])
        #expect(plan.groups.map(\.tests) == [3, 4, 5, 6, 7], "python_files from pytest.ini honoured, parametrize expanded")
        #expect(plan.unmatched == 1)
        #expect(plan.duplicates == 0)
    }

    @Test func markExpressionsUsePytestSemanticsAndReportOverlap() async throws {
        let folder = try Self.markedSuite()
        let plan = try await Planner().plan(PlanRequest(
            mode: .marks(["smoke and (hpc_sw or hpc_fs)", "hpc_sw", "not smoke and not hpc_sw and not hpc_fs"]),
            workers: 2, directory: folder.path))
        #expect(plan.groups.map(\.tests) == [2, 5, 10])
        #expect(plan.duplicates == 1, "hpc_sw's smoke test is chosen twice, runs once")
        #expect(plan.unmatched == 9, "hpc_fs's tests and the iaas smoke tests match no group")
        #expect(plan.tests == 17)
    }

    @Test func suitesAndFilesGroupByFolder() async throws {
        let folder = try Self.markedSuite()
        let suites = try await Planner().plan(PlanRequest(mode: .suites(directory: "."), workers: 2, directory: folder.path))
        #expect(suites.groups.map(\.name).sorted() == ["suite0", "suite1"])
        let files = try await Planner().plan(PlanRequest(mode: .files(directory: "suite1"), workers: 2, directory: folder.path))
        #expect(files.groups.map(\.name) == ["suite1/check_hpc_sw.py", "suite1/check_iaas_volume_p2.py"])
    }

    @Test func staticShardsAreExclusiveExhaustiveAndDeterministic() async throws {
        let folder = try TemporaryFolder("arun-shard")
        for file in 0..<23 {
            var text = ""
            for test in 0..<(file % 5 + 1) { text += "def test_\(test)():\n    pass\n" }
            try folder.write("tests/test_\(file).py", text)
        }
        let planner = Planner()
        // One real file listing; every slice is planned from it, as each machine would from its own.
        let (collection, context) = try await planner.collect(PlanRequest(workers: 2, directory: folder.path))
        let all = Set(collection.files)
        #expect(all.count == 23)
        func slice(_ plan: Plan) -> [[String]] { plan.jobs.map { JobPayload.decode($0.payload).files ?? [] } }
        for count in 1...7 {
            var seen: [String] = []
            for index in 0..<count {
                let request = PlanRequest(workers: 2, shard: ShardSpec(count: count, index: index), directory: folder.path)
                let first = slice(try planner.plan(request, collection: collection, context: context))
                let again = slice(try planner.plan(request, collection: collection, context: context))
                #expect(first == again, "deterministic: \(count)/\(index)")
                seen += first.flatMap { $0 }
            }
            #expect(seen.count == all.count, "disjoint for \(count) shards")
            #expect(Set(seen) == all, "exhaustive for \(count) shards")
        }
        // A second machine's own collection gives the same slice.
        let request = PlanRequest(workers: 2, shard: ShardSpec(count: 3, index: 1), directory: folder.path)
        let here = slice(try planner.plan(request, collection: collection, context: context))
        let elsewhere = slice(try await planner.plan(request))
        #expect(here == elsewhere)
    }

    @Test func automaticPlansNameFilesWithoutImportingThem() async throws {
        let folder = try TemporaryFolder("arun-files")
        try folder.write("pytest.ini", "[pytest]\npython_files = check_*.py\n")
        try folder.write("tests/check_a.py", "import sys\nsys.exit('imported at planning time')\n")
        try folder.write("tests/check_b.py", "def test_b():\n    pass\n")
        try folder.write("tests/test_ignored.py", "def test_no():\n    pass\n")
        let plan = try await Planner().plan(PlanRequest(workers: 2, directory: folder.path))
        #expect(plan.files == 2)
        let files = plan.jobs.flatMap { JobPayload.decode($0.payload).files ?? [] }.sorted()
        #expect(files == ["tests/check_a.py", "tests/check_b.py"])
        #expect(plan.jobs.allSatisfy { $0.tests.isEmpty })
    }

    @Test func collectionErrorsAreKeptNotDropped() async throws {
        let folder = try TemporaryFolder("arun-colerr")
        try folder.write("tests/test_ok.py", "def test_ok():\n    pass\n")
        try folder.write("tests/test_broken.py", "import nonexistent_module_xyz\n\ndef test_never():\n    pass\n")
        // As pytest: nothing runs after a collection error, unless told to go on.
        let plan = try await Planner().plan(PlanRequest(mode: .marks(["not nothing"]), workers: 1, directory: folder.path))
        #expect(plan.tests == 0)
        #expect(plan.collectionErrors.count == 1)
        #expect(plan.collectionErrors.first?.location.contains("test_broken.py") == true)
        let going = try await Planner().plan(PlanRequest(pytestArgs: ["--continue-on-collection-errors"],
                                                         mode: .marks(["not nothing"]), workers: 1, directory: folder.path))
        #expect(going.tests == 1)
        #expect(going.collectionErrors.count == 1)
    }

    @Test func badInputsAreRefusedBeforeAnythingIsWritten() async throws {
        let folder = try Self.markedSuite()
        let queue = try SQLiteQueue(path: folder.file("q.db"))
        let cases: [(PlanRequest, String)] = [
            (PlanRequest(paths: ["missing_dir"], directory: folder.path), "no such file"),
            (PlanRequest(mode: .files(directory: "nope"), directory: folder.path), "not a directory"),
            (PlanRequest(mode: .marks(["smoke and"]), directory: folder.path), "invalid mark expression"),
            (PlanRequest(workers: 0, directory: folder.path), "worker"),
            (PlanRequest(shard: ShardSpec(count: 2, index: 2), directory: folder.path), "shard"),
            (PlanRequest(shard: ShardSpec(count: 2, index: -1), directory: folder.path), "shard"),
            (PlanRequest(directory: folder.path, python: PythonInterpreter(explicit: "/nonexistent/python")), "python"),
        ]
        for (request, words) in cases {
            do {
                let plan = try await Planner().plan(request)
                _ = try await Planner().enqueue(plan, request: request, name: nil, settings: RunSettings(), into: queue)
                Issue.record("accepted: \(words)")
            } catch {
                let text = "\(error)".lowercased()
                #expect(text.contains(words), "\(text)")
                #expect(!text.contains("\n"))
            }
        }
        #expect(try queue.latestRun() == nil, "nothing written")
    }
}
