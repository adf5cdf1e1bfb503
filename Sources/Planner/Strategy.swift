/// A distribution strategy file (aomaker's `conf/dist_strategy.yaml` or
/// `conf/aomaker.yaml`): which mark expressions to run, each as its own group.
///
/// ```yaml
/// target: ['iaas.p2', 'hpc']
/// marks:
///   iaas:
///     smoke: [iaas_image, iaas_volume]
///     p2: [iaas_image_p2, iaas_volume_p2]
///   hpc: [hpc_sw, hpc_fs]
/// ```
/// gives the groups `iaas_image_p2, iaas_volume_p2, hpc_sw, hpc_fs`, in that order.
public struct Strategy: Sendable, Hashable {
    /// The targets as written, in file order.
    public var targets: [String]
    /// The groups, in target order and then list order. Repeated expressions are
    /// kept: `Grouping` reports them, so the user learns about the overlap.
    public var groups: [MarkGroup]

    public init(targets: [String], groups: [MarkGroup]) {
        self.targets = targets
        self.groups = groups
    }

    /// The expressions of `groups`, ready for `GroupingMode.marks`.
    public var expressions: [String] { groups.map(\.expression) }

    /// Parses a strategy file's text.
    /// - Parameter source: how to name the file in error messages, e.g. `conf/aomaker.yaml`.
    public static func parse(yaml: String, source: String) throws -> Strategy {
        try StrategyParser(source: source).parse(yaml: yaml)
    }
}
