import Testing
@testable import Planner

/// `count` groups with heavy-tailed weights and unique names, in a fixed order.
private func syntheticGroups(_ count: Int, seed: UInt64) -> [WeightedGroup] {
    var random = SeededGenerator(seed: seed)
    return (0..<count).map { number in
        let name = "tests/suite\(number % 17)/test_\(number).py"
        let weight = (random.unit() < 0.05 ? 60 : 1) * (0.5 + 10 * random.unit())
        return WeightedGroup(group: TestGroup(name: name, tests: [collected(name, "t")]), weight: weight)
    }
}

@Suite struct ShardingTests {
    @Test(arguments: 1...7)
    func partitionIsExclusiveExhaustiveStableAndBalanced(count: Int) throws {
        let groups = syntheticGroups(300, seed: 2024)
        let shards = try (0..<count).map { try Sharding.shard(groups: groups, count: count, index: $0) }

        let names = shards.flatMap { $0.map(\.name) }
        #expect(names.count == groups.count, "pairwise disjoint and exhaustive by count")
        #expect(Set(names) == Set(groups.map(\.name)), "union is everything")
        for shard in shards {
            let positions = shard.compactMap { group in groups.firstIndex { $0.name == group.name } }
            #expect(positions == positions.sorted(), "each shard keeps input order")
        }

        let again = try (0..<count).map { try Sharding.shard(groups: groups, count: count, index: $0) }
        #expect(again == shards)
        #expect(try Sharding.partition(groups: groups, count: count) == shards)

        let loads = shards.map { $0.reduce(0) { $0 + $1.weight } }
        let total = groups.reduce(0) { $0 + $1.weight }
        let lowerBound = max(total / Double(count), groups.map(\.weight).max() ?? 0)
        #expect((loads.max() ?? 0) <= 1.05 * lowerBound, "loads \(loads) vs lower bound \(lowerBound)")
        #expect(shards.allSatisfy { !$0.isEmpty })
    }

    @Test func membershipDoesNotDependOnInputOrder() throws {
        let groups = syntheticGroups(200, seed: 5)
        var random = SeededGenerator(seed: 11)
        let shuffled = groups.shuffled(using: &random)
        #expect(shuffled != groups)
        for index in 0..<5 {
            let original = try Sharding.shard(groups: groups, count: 5, index: index)
            let fromShuffled = try Sharding.shard(groups: shuffled, count: 5, index: index)
            #expect(Set(original.map(\.name)) == Set(fromShuffled.map(\.name)))
        }
    }

    @Test func equalWeightsAreSplitByName() throws {
        let groups = ["d", "b", "a", "c"].map { WeightedGroup(group: TestGroup(name: $0, tests: []), weight: 1) }
        let shards = try Sharding.partition(groups: groups, count: 2)
        // LPT order a, b, c, d onto shards 0, 1, 0, 1; each shard keeps input order.
        #expect(shards.map { $0.map(\.name) } == [["a", "c"], ["d", "b"]])
    }

    @Test func moreShardsThanGroupsLeavesSomeEmpty() throws {
        let groups = syntheticGroups(3, seed: 1)
        let shards = try Sharding.partition(groups: groups, count: 5)
        #expect(shards.filter(\.isEmpty).count == 2)
        #expect(shards.flatMap { $0 }.count == 3)
    }

    @Test func invalidCountOrIndex() {
        let groups = syntheticGroups(10, seed: 3)
        #expect(plannerError { _ = try Sharding.shard(groups: groups, count: 3, index: 3) }
            == .invalidShardIndex(index: 3, count: 3))
        #expect(plannerError { _ = try Sharding.shard(groups: groups, count: 3, index: -1) }
            == .invalidShardIndex(index: -1, count: 3))
        #expect(plannerError { _ = try Sharding.shard(groups: groups, count: 0, index: 0) } == .invalidShardCount(0))
        #expect(plannerError { _ = try Sharding.shard(groups: groups, count: -2, index: 0) } == .invalidShardCount(-2))
        #expect(plannerError { _ = try Sharding.shard(groups: groups, count: 3, index: 3) }?.description
            == "shard index 3 is out of range for 3 shard(s); use an index from 0 to 2")
        #expect(plannerError { _ = try Sharding.shard(groups: groups, count: 0, index: 0) }?.description.contains("at least 1") == true)
    }

    @Test func invalidWeightsAreRejected() {
        for weight in [-1.0, .nan, .infinity] {
            var groups = syntheticGroups(4, seed: 8)
            groups[2].weight = weight
            let error = plannerError { _ = try Sharding.shard(groups: groups, count: 2, index: 0) }
            guard case let .invalidWeight(group, _) = error else {
                Issue.record("expected invalidWeight for \(weight), got \(String(describing: error))")
                continue
            }
            #expect(group == groups[2].name)
        }
    }

    @Test func weighingUsesDurationsAndTheMedianForUnknownTests() {
        let groups = [
            TestGroup(name: "a", tests: [collected("a.py", "t1"), collected("a.py", "t2")]),
            TestGroup(name: "b", tests: [collected("b.py", "t1")]),
        ]
        let weighted = WeightedGroup.weighing(groups, durations: ["a.py::t1": 4, "b.py::t1": 2])
        #expect(weighted.map(\.weight) == [4 + 3, 2])
        let unweighted = WeightedGroup.weighing(groups, durations: [:], assumedTestSeconds: 0.5)
        #expect(unweighted.map(\.weight) == [1.0, 0.5])
    }
}
