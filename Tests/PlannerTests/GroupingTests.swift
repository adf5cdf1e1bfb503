import Testing
@testable import Planner

@Suite struct GroupingTests {
    // MARK: marks

    @Test func marksWithOverlapAndUnmatched() {
        // Expressions: 0 = smoke, 1 = api, 2 = slow.
        let tests = [
            collected("tests/test_a.py", "t1", matches: [0]),
            collected("tests/test_a.py", "t2", matches: [1, 0]),  // smoke and api
            collected("tests/test_b.py", "t3", matches: [1]),
            collected("tests/test_b.py", "t4", matches: []),
            collected("tests/test_c.py", "t5", matches: [2, 1, 0]),  // all three
            collected("tests/test_c.py", "t6", matches: [2]),
            collected("tests/test_c.py", "t7"),
        ]
        let grouping = Grouping.group(tests, by: .marks(["smoke", "api", "slow"]))
        #expect(grouping.groups.map(\.name) == ["smoke", "api", "slow"])
        #expect(grouping.groups.map { $0.tests.map(\.nodeid) } == [
            ["tests/test_a.py::t1", "tests/test_a.py::t2", "tests/test_c.py::t5"],
            ["tests/test_b.py::t3"],
            ["tests/test_c.py::t6"],
        ])
        #expect(grouping.unmatched.map(\.nodeid) == ["tests/test_b.py::t4", "tests/test_c.py::t7"])
        #expect(grouping.duplicates == [
            GroupingDuplicate(nodeid: "tests/test_a.py::t2", keptIn: "smoke", alsoIn: "api"),
            GroupingDuplicate(nodeid: "tests/test_c.py::t5", keptIn: "smoke", alsoIn: "api"),
            GroupingDuplicate(nodeid: "tests/test_c.py::t5", keptIn: "smoke", alsoIn: "slow"),
        ])
        #expect(grouping.warnings.isEmpty)
        // Every test is accounted for exactly once.
        let placed = grouping.groups.flatMap(\.tests) + grouping.unmatched
        #expect(placed.count == tests.count)
        #expect(Set(placed) == Set(tests))
    }

    @Test func emptyAndShadowedExpressionsAreDroppedWithWarnings() {
        let tests = [
            collected("tests/test_a.py", "t1", matches: [0, 1]),
            collected("tests/test_a.py", "t2", matches: [0]),
        ]
        let grouping = Grouping.group(tests, by: .marks(["smoke", "api", "nothing"]))
        #expect(grouping.groups.map(\.name) == ["smoke"])
        #expect(grouping.warnings.count == 2)
        #expect(grouping.warnings.contains { $0.contains("'api'") && $0.contains("already run in earlier groups") })
        #expect(grouping.warnings.contains { $0.contains("'nothing' matches no collected test") })
    }

    @Test func repeatedExpressionRunsOnce() {
        let tests = [collected("tests/test_a.py", "t1", matches: [0, 2]), collected("tests/test_a.py", "t2", matches: [1])]
        let grouping = Grouping.group(tests, by: .marks(["smoke", "api", "smoke"]))
        #expect(grouping.groups.map(\.name) == ["smoke", "api"])
        #expect(grouping.duplicates.isEmpty)
        #expect(grouping.warnings.count == 1)
        #expect(grouping.warnings.first?.contains("'smoke' is given more than once") == true)
    }

    @Test func matchesBeyondTheExpressionsAreReported() {
        let tests = [collected("tests/test_a.py", "t1", matches: [0, 5])]
        let grouping = Grouping.group(tests, by: .marks(["smoke"]))
        #expect(grouping.groups.map(\.name) == ["smoke"])
        #expect(grouping.warnings.contains { $0.contains("point past the 1 mark expression") })
    }

    @Test func splitMarkArguments() {
        #expect(Grouping.splitMarkArguments(["m1 m2 m3"]) == ["m1", "m2", "m3"])
        #expect(Grouping.splitMarkArguments(["smoke and not slow"]) == ["smoke and not slow"])
        #expect(Grouping.splitMarkArguments(["  api   db "]) == ["api", "db"])
        #expect(Grouping.splitMarkArguments(["(api or db)", "not  flaky"]) == ["(api or db)", "not flaky"])
        #expect(Grouping.splitMarkArguments(["a", "", "  ", "b c"]) == ["a", "b", "c"])
        #expect(Grouping.splitMarkArguments(["api db-slow"]) == ["api db-slow"])
        #expect(Grouping.splitMarkArguments(["smoke or"]) == ["smoke or"])
        #expect(Grouping.splitMarkArguments(["_private p2_iaas"]) == ["_private", "p2_iaas"])
        #expect(Grouping.splitMarkArguments(["2fast"]) == ["2fast"])
    }

    // MARK: files

    private static let tree = [
        collected("tests/api/test_users.py", "t1"),
        collected("tests/api/test_orders.py", "t1"),
        collected("tests/api/test_users.py", "t2"),
        collected("tests/api/v2/test_new.py", "t1"),
        collected("tests/api/v2/deep/test_deeper.py", "t1"),
        collected("tests/db/test_db.py", "t1"),
        collected("tests/test_root.py", "t1"),
        collected("tests/test_root.py", "t2"),
        collected("other/test_other.py", "t1"),
    ]

    @Test func filesDirectlyAndBelow() {
        let grouping = Grouping.group(Self.tree, by: .files(directory: "tests/api"))
        #expect(grouping.groups.map(\.name) == [
            "tests/api/test_orders.py", "tests/api/test_users.py",
            "tests/api/v2/deep/test_deeper.py", "tests/api/v2/test_new.py",
        ])
        #expect(grouping.groups[1].tests.map(\.nodeid) == ["tests/api/test_users.py::t1", "tests/api/test_users.py::t2"])
        #expect(grouping.unmatched.count == 4)
        #expect(grouping.duplicates.isEmpty)
        #expect(grouping.warnings.count == 1)
        #expect(grouping.warnings.first?.contains("2 test(s) in 2 file(s) below subdirectories of 'tests/api'") == true)
    }

    @Test func filesDirectoryIsNormalisedAndRootMeansEverything() {
        let spelled = Grouping.group(Self.tree, by: .files(directory: "./tests/api/"))
        #expect(spelled == Grouping.group(Self.tree, by: .files(directory: "tests/api")))
        let root = Grouping.group(Self.tree, by: .files(directory: ""))
        #expect(root.groups.count == 7)
        #expect(root.unmatched.isEmpty)
        #expect(root.groups.map(\.name) == root.groups.map(\.name).sorted())
        // No test file lies directly in the root, so every group comes from below it.
        #expect(root.warnings.first?.contains("9 test(s) in 7 file(s)") == true)
    }

    @Test func filesInDirectoryWithoutDeeperFilesHasNoWarning() {
        let grouping = Grouping.group(Self.tree, by: .files(directory: "tests/db"))
        #expect(grouping.groups.map(\.name) == ["tests/db/test_db.py"])
        #expect(grouping.warnings.isEmpty)
        #expect(grouping.unmatched.count == Self.tree.count - 1)
    }

    @Test func directoryWithNoTestsWarns() {
        let grouping = Grouping.group(Self.tree, by: .files(directory: "test"))  // typo for "tests"
        #expect(grouping.groups.isEmpty)
        #expect(grouping.unmatched.count == Self.tree.count)
        #expect(grouping.warnings.first?.contains("no collected test lies under 'test'") == true)
    }

    // MARK: suites

    @Test func suitesWithFilesDirectlyInTheDirectory() {
        let grouping = Grouping.group(Self.tree, by: .suites(directory: "tests"))
        #expect(grouping.groups.map(\.name) == ["tests", "tests/api", "tests/db"])
        #expect(grouping.groups[0].tests.map(\.nodeid) == ["tests/test_root.py::t1", "tests/test_root.py::t2"])
        #expect(grouping.groups[1].tests.map(\.nodeid) == [
            "tests/api/test_users.py::t1", "tests/api/test_orders.py::t1", "tests/api/test_users.py::t2",
            "tests/api/v2/test_new.py::t1", "tests/api/v2/deep/test_deeper.py::t1",
        ])
        #expect(grouping.unmatched.map(\.nodeid) == ["other/test_other.py::t1"])
        #expect(grouping.warnings.count == 1)
        #expect(grouping.warnings.first?.contains("2 test(s) in 1 file(s) lie directly in 'tests'") == true)
        #expect(grouping.warnings.first?.contains("extra group 'tests'") == true)
    }

    @Test func suitesOfNestedDirectories() {
        let grouping = Grouping.group(Self.tree, by: .suites(directory: "tests/api"))
        #expect(grouping.groups.map(\.name) == ["tests/api", "tests/api/v2"])
        #expect(grouping.groups.map(\.tests.count) == [3, 2])
        // Files directly in tests/api form the extra group; this one has them.
        #expect(grouping.warnings.count == 1)
        let clean = Grouping.group(Self.tree, by: .suites(directory: "tests/api/v2"))
        #expect(clean.groups.map(\.name) == ["tests/api/v2", "tests/api/v2/deep"])
        let onlySubdirs = Grouping.group(Self.tree.filter { $0.file.hasPrefix("tests/api/v2/deep") || $0.file.hasPrefix("tests/db") },
                                         by: .suites(directory: "tests"))
        #expect(onlySubdirs.groups.map(\.name) == ["tests/api", "tests/db"])
        #expect(onlySubdirs.warnings.isEmpty)
    }

    @Test func suitesAtTheRoot() {
        let grouping = Grouping.group(Self.tree, by: .suites(directory: ""))
        #expect(grouping.groups.map(\.name) == ["other", "tests"])
        #expect(grouping.groups.map(\.tests.count) == [1, 8])
        #expect(grouping.unmatched.isEmpty)
        #expect(grouping.warnings.isEmpty)
    }
}
