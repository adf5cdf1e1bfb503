/// A test as pytest collected it.
///
/// This is the planner's only view of a suite: everything it decides (groups,
/// jobs, shards) is derived from a list of these in collection order.
public struct CollectedTest: Sendable, Hashable, Codable {
    /// The pytest node id, e.g. `tests/a/test_x.py::test_y[1]`.
    public var nodeid: String
    /// The test file, rootdir-relative and `/`-separated, e.g. `tests/a/test_x.py`.
    public var file: String
    /// The names of the marks on the test, sorted.
    public var marks: [String]
    /// Indices of the mark expressions given to collection that this test matches.
    ///
    /// pytest evaluates the expressions itself, so the planner never has to
    /// reimplement `-m` semantics (and never disagrees with pytest about them).
    public var matches: [Int]

    /// Creates a collected test; `file` defaults to the part of `nodeid` before `::`.
    public init(nodeid: String, file: String? = nil, marks: [String] = [], matches: [Int] = []) {
        self.nodeid = nodeid
        self.file = file ?? CollectedTest.file(ofNodeid: nodeid)
        self.marks = marks
        self.matches = matches
    }

    /// The file part of a node id: everything before the first `::`.
    static func file(ofNodeid nodeid: String) -> String {
        guard let separator = nodeid.firstRange(of: "::") else { return nodeid }
        return String(nodeid[..<separator.lowerBound])
    }
}
