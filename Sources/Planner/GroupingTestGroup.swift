/// Tests run together as one pytest session (one job).
public struct TestGroup: Sendable, Hashable, Codable {
    /// A stable, human-readable name: a mark expression, a file, a directory or a job label.
    public var name: String
    /// The tests, in collection order.
    public var tests: [CollectedTest]

    public init(name: String, tests: [CollectedTest]) {
        self.name = name
        self.tests = tests
    }

    /// The node ids to hand pytest, in collection order.
    public var nodeids: [String] { tests.map(\.nodeid) }
}
