/// One group chosen by a strategy file: a mark expression run as its own pytest session.
public struct MarkGroup: Sendable, Hashable, Codable {
    /// The group's name; the expression itself, as in `GroupingMode.marks`, so
    /// a group reads the same whether it came from a file or the command line.
    public var name: String
    /// The pytest `-m` expression, e.g. `iaas_image_p2` or `smoke and not slow`.
    public var expression: String
    /// The target that selected it, e.g. `iaas.p2`; for messages only.
    public var target: String

    public init(name: String, expression: String, target: String) {
        self.name = name
        self.expression = expression
        self.target = target
    }
}
