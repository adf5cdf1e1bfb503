/// Longest-processing-time-first list scheduling: items in decreasing weight,
/// each onto the currently lightest bin.
///
/// Used both to estimate per-worker time for a queue of jobs (workers pull
/// the longest remaining job first, which LPT models) and to cut static shards.
/// Within 4/3 of optimal in the worst case and much closer with many small items.
struct LongestFirstSchedule: Sendable {
    /// The bin each item went to, indexed like the input.
    let binOfItem: [Int]
    /// The total weight in each bin.
    let loads: [Double]

    /// - Parameters:
    ///   - weights: item weights, finite and non-negative.
    ///   - names: item names, to break ties between equal weights deterministically.
    ///   - bins: at least 1.
    init(weights: [Double], names: [String], bins: Int) {
        let order = Self.longestFirstOrder(weights: weights, names: names)
        var loads = Array(repeating: 0.0, count: max(bins, 1))
        var binOfItem = Array(repeating: 0, count: weights.count)
        for item in order {
            // Lightest bin; the lowest index on ties, so equal loads never depend on anything else.
            var lightest = 0
            for bin in loads.indices.dropFirst() where loads[bin] < loads[lightest] {
                lightest = bin
            }
            binOfItem[item] = lightest
            loads[lightest] += weights[item]
        }
        self.binOfItem = binOfItem
        self.loads = loads
    }

    /// Item indices by decreasing weight, then name, then input position.
    static func longestFirstOrder(weights: [Double], names: [String]) -> [Int] {
        weights.indices.sorted { left, right in
            if weights[left] != weights[right] { return weights[left] > weights[right] }
            if names[left] != names[right] { return names[left] < names[right] }
            return left < right
        }
    }
}
