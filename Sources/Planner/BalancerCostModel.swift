/// Estimates each test's duration from history, filling gaps sensibly.
///
/// Known durations are used as they are. A test without history costs the
/// median of the known durations of this suite (or, if none of its tests are
/// known, of the whole history): new tests tend to resemble their neighbours,
/// and the median ignores the few pathological outliers a mean would follow.
/// With no usable history at all every test costs `assumedSeconds`, so the
/// plan is count-based.
struct BalancerCostModel: Sendable {
    /// No test is estimated below this. pytest's per-test overhead is never zero,
    /// and a zero total would make "share of the suite" meaningless.
    static let floorSeconds = 0.001
    /// No test is estimated above this (a year): a corrupt durations file
    /// must not overflow the sums into infinity.
    static let ceilingSeconds = 365 * 24 * 3600.0

    /// What an unknown test costs.
    let fallbackSeconds: Double
    /// The durations that came from history, by node id.
    private let durations: [String: Double]

    init(tests: [CollectedTest], durations: [String: Double], assumedSeconds: Double) {
        let usable = durations.filter { $0.value.isFinite && $0.value >= 0 }
        let suiteKnown = tests.compactMap { usable[$0.nodeid] }
        let pool = suiteKnown.isEmpty ? Array(usable.values) : suiteKnown
        self.durations = usable
        fallbackSeconds = min(max(Self.median(pool) ?? assumedSeconds, Self.floorSeconds), Self.ceilingSeconds)
    }

    /// The estimated duration of one test.
    func seconds(for test: CollectedTest) -> Double {
        min(max(durations[test.nodeid] ?? fallbackSeconds, Self.floorSeconds), Self.ceilingSeconds)
    }

    /// Whether history knows this test.
    func isKnown(_ test: CollectedTest) -> Bool {
        durations[test.nodeid] != nil
    }

    /// The median, sorting first so dictionary order cannot leak into the result.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
    }
}
