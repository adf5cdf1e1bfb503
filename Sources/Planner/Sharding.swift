/// Static sharding across machines (like Tradefed's or Bazel's `--shard_index`):
/// each machine computes the whole partition from the same inputs and keeps its slice.
///
/// Groups are never split. The partition is LPT over shards (heaviest group
/// first onto the lightest shard; ties by name, then input position; equal
/// shard loads go to the lowest index), so the slices are mutually exclusive,
/// together exhaustive, balanced by weight, and a function of the inputs alone.
public enum Sharding {
    /// The groups of shard `index` out of `count`, in input order.
    public static func shard(groups: [WeightedGroup], count: Int, index: Int) throws -> [WeightedGroup] {
        guard index >= 0, index < count else {
            if count < 1 { throw PlanError.invalidShardCount(count) }
            throw PlanError.invalidShardIndex(index: index, count: count)
        }
        return try partition(groups: groups, count: count)[index]
    }

    /// All `count` shards, each in input order; `partition(...)[i] == shard(..., index: i)`.
    ///
    /// Input order is kept within a shard (rather than heaviest first) so a
    /// shard's run reads like the unsharded run with gaps.
    public static func partition(groups: [WeightedGroup], count: Int) throws -> [[WeightedGroup]] {
        guard count >= 1 else { throw PlanError.invalidShardCount(count) }
        for group in groups where !(group.weight.isFinite && group.weight >= 0) {
            // NaN would make the LPT order depend on the sort algorithm: refuse it.
            throw PlanError.invalidWeight(group: group.name, weight: group.weight)
        }
        let schedule = LongestFirstSchedule(weights: groups.map(\.weight), names: groups.map(\.name), bins: count)
        var shards = Array(repeating: [WeightedGroup](), count: count)
        for (position, group) in groups.enumerated() {
            shards[schedule.binOfItem[position]].append(group)
        }
        return shards
    }
}
