/// A group with the weight (estimated seconds) sharding balances on.
public struct WeightedGroup: Sendable, Hashable, Codable {
    /// The tests; never split across shards.
    public var group: TestGroup
    /// Estimated seconds; finite and non-negative.
    public var weight: Double

    public init(group: TestGroup, weight: Double) {
        self.group = group
        self.weight = weight
    }

    /// The group's name, which breaks ties between equal weights.
    public var name: String { group.name }

    /// Weighs groups by the durations in `durations` (normally a checked-in
    /// durations file), estimating unknown tests like the balancer does:
    /// the median known duration, or `assumedTestSeconds` with no history.
    ///
    /// Every machine must pass the same durations, or their shards disagree;
    /// never pass machine-local history here.
    public static func weighing(_ groups: [TestGroup], durations: [String: Double],
                                assumedTestSeconds: Double = 0.1) -> [WeightedGroup] {
        let costs = BalancerCostModel(tests: groups.flatMap(\.tests), durations: durations,
                                      assumedSeconds: assumedTestSeconds)
        return groups.map { group in
            WeightedGroup(group: group, weight: group.tests.reduce(0) { $0 + costs.seconds(for: $1) })
        }
    }
}
