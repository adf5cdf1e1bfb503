/// Turns files into job-sized groups; see `Balancer` for the rule.
struct BalancerPacking: Sendable {
    /// Job length to aim for, excluding startup.
    let target: Double
    /// Files above this are split.
    let splitThreshold: Double
    /// Pieces of a split file are at least this long.
    let minimumPieceSeconds: Double
    /// Workers sharing the jobs; sizes the shrinking tail.
    let workers: Int
    /// Tail jobs shrink down to this, no further; `nil` for no shrinking tail.
    let tailFloorSeconds: Double?

    /// Large files (alone or in pieces), then runs of small files, each in collection order.
    func pack(_ files: [BalancerFile]) -> [TestGroup] {
        // Large files stand alone; the small-file runs continue past them, so
        // a big file never leaves a half-empty job behind.
        let large = files.filter { $0.seconds > target }
        let small = files.filter { $0.seconds <= target }
        var groups = large.flatMap(split)

        let costs = small.map(\.seconds)
        let sizes = jobSizes(total: costs.reduce(0, +))
        for range in Self.contiguousParts(of: costs, shares: sizes) {
            let run = small[range]
            guard let first = run.first else { continue }
            let name = run.count == 1 ? first.path : "\(first.path) +\(run.count - 1) files"
            groups.append(TestGroup(name: name, tests: run.flatMap(\.tests)))
        }
        return groups
    }

    /// The lengths to cut `total` seconds of small files into.
    ///
    /// Without a tail: as many equal jobs as make each about `target`. With one:
    /// `target`-long jobs until less than one per worker is left, then each job
    /// a worker's share of the rest, down to the floor (guided self-scheduling):
    /// workers pull the longest jobs first, so the shrinking jobs run last and
    /// even out the finish times.
    func jobSizes(total: Double) -> [Double] {
        guard total > 0 else { return [] }
        guard let floor = tailFloorSeconds, floor < target else {
            let count = max(1, (total / target).rounded())
            return Array(repeating: total / count, count: Int(count))
        }
        // A last job shorter than this is not worth its startup; it joins the one before.
        let crumb = floor / 2
        let share = 1 / Double(max(workers, 1))
        var sizes: [Double] = []
        var remaining = total
        while remaining > 0 {
            let size = min(target, max(floor, remaining * share))
            if remaining - size < crumb {
                sizes.append(remaining)
                break
            }
            sizes.append(size)
            remaining -= size
        }
        return sizes
    }

    /// A file as one group, or as contiguous pieces when it is much longer than a job.
    func split(_ file: BalancerFile) -> [TestGroup] {
        let seconds = file.seconds
        guard seconds > splitThreshold, file.tests.count > 1 else {
            return [TestGroup(name: file.path, tests: file.tests)]
        }
        // In Double until clamped, so extreme ratios cannot overflow Int.
        let wanted = max(2, (seconds / target).rounded())
        let bySize = (seconds / minimumPieceSeconds).rounded(.down)  // +inf when the floor is 0
        let pieces = Int(min(wanted, bySize, Double(file.tests.count)))
        guard pieces > 1 else { return [TestGroup(name: file.path, tests: file.tests)] }
        let ranges = Self.contiguousParts(of: file.costs, count: pieces)
        return ranges.enumerated().map { number, range in
            TestGroup(name: "\(file.path) [\(number + 1)/\(pieces)]", tests: Array(file.tests[range]))
        }
    }

    /// Cuts `costs` into `count` non-empty contiguous ranges of about equal sum.
    static func contiguousParts(of costs: [Double], count: Int) -> [Range<Int>] {
        contiguousParts(of: costs, shares: Array(repeating: 1, count: max(count, 1)))
    }

    /// Cuts `costs` into contiguous non-empty ranges whose sums are about
    /// proportional to `shares` (one range per share, fewer if there are fewer items).
    ///
    /// Contiguous, because neighbouring tests (parametrisations, classes) and
    /// neighbouring files (a package's conftest) share fixtures. Each cut aims
    /// at its share of what is left, so rounding never accumulates into a
    /// lopsided last range.
    static func contiguousParts(of costs: [Double], shares: [Double]) -> [Range<Int>] {
        let count = min(shares.count, costs.count)
        guard count > 0 else { return [] }
        var ranges: [Range<Int>] = []
        var start = 0
        var remaining = costs.reduce(0, +)
        var remainingShares = shares[..<count].reduce(0, +)
        for part in 0..<(count - 1) {
            let aim = remainingShares > 0 ? remaining * shares[part] / remainingShares : 0
            let lastEnd = costs.count - (count - 1 - part)  // leave one item per later range
            var end = start + 1
            var sum = costs[start]
            // Take the next item while that lands closer to the aim than stopping.
            while end < lastEnd, sum + costs[end] / 2 <= aim {
                sum += costs[end]
                end += 1
            }
            ranges.append(start..<end)
            remaining -= sum
            remainingShares -= shares[part]
            start = end
        }
        ranges.append(start..<costs.count)
        return ranges
    }
}
