/// How a suite is cut into groups that each run as one independent pytest session.
public enum GroupingMode: Sendable, Hashable {
    /// One group per mark expression (aomaker `--dist-mark`); the group's name is the expression.
    /// `CollectedTest.matches` indexes into this list.
    case marks([String])
    /// One group per test file under `directory` (aomaker `--dist-file`); rootdir-relative, `""` is the root.
    case files(directory: String)
    /// One group per immediate subdirectory of `directory` (aomaker `--dist-suite`).
    case suites(directory: String)
}
