/// The result of cutting collected tests into groups by a `GroupingMode`.
///
/// Nothing is dropped silently: every collected test is in exactly one group
/// or in `unmatched`, and anything surprising is explained in `warnings`.
public struct Grouping: Sendable, Hashable {
    /// The groups, in a deterministic order: expression order for marks, by name otherwise.
    public var groups: [TestGroup]
    /// Tests no group chose, in collection order.
    public var unmatched: [CollectedTest]
    /// Tests several groups chose; each still runs once, in `keptIn`.
    public var duplicates: [GroupingDuplicate]
    /// One line each, for the user.
    public var warnings: [String]

    public init(groups: [TestGroup] = [], unmatched: [CollectedTest] = [],
                duplicates: [GroupingDuplicate] = [], warnings: [String] = []) {
        self.groups = groups
        self.unmatched = unmatched
        self.duplicates = duplicates
        self.warnings = warnings
    }

    /// Cuts `tests` (in collection order) into groups.
    public static func group(_ tests: [CollectedTest], by mode: GroupingMode) -> Grouping {
        switch mode {
        case let .marks(expressions):
            return groupByMarks(tests, expressions: expressions)
        case let .files(directory):
            return groupByFiles(tests, directory: directory)
        case let .suites(directory):
            return groupBySuites(tests, directory: directory)
        }
    }
}

/// A test chosen by more than one group: it runs once, in the first group that chose it.
public struct GroupingDuplicate: Sendable, Hashable, Codable {
    /// The test.
    public var nodeid: String
    /// The group it runs in (the first, in group order).
    public var keptIn: String
    /// Another group that chose it too; one entry per such group.
    public var alsoIn: String

    public init(nodeid: String, keptIn: String, alsoIn: String) {
        self.nodeid = nodeid
        self.keptIn = keptIn
        self.alsoIn = alsoIn
    }
}

extension Grouping {
    /// One group per test file, in first-collected order: the unit static shards move.
    public static func byFile(_ tests: [CollectedTest]) -> [TestGroup] {
        var order: [String] = []
        var byFile: [String: [CollectedTest]] = [:]
        for test in tests {
            if byFile[test.file] == nil { order.append(test.file) }
            byFile[test.file, default: []].append(test)
        }
        return order.map { TestGroup(name: $0, tests: byFile[$0] ?? []) }
    }
}
