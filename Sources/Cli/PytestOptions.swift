import ArgumentParser
import Foundation

/// pytest's own selection and output options, accepted directly by `run` and `enqueue`
/// and given to every pytest as if they followed `--` (the planner's collection too,
/// so `-k`/`-m` narrow every job and every `--dist-mark` group).
struct PytestOptions: ParsableArguments {
    @Option(name: .customShort("k"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("pytest: only tests whose names match this expression.", valueName: "expression"))
    var keyword: [String] = []

    @Option(name: .customShort("m"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("pytest: only tests whose marks match this expression.", valueName: "markexpr"))
    var markExpression: [String] = []

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "pytest: more verbose (repeatable).")
    var verbose: Int

    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "pytest: less verbose (repeatable).")
    var quiet: Int

    @Option(name: .customLong("tb"), help: ArgumentHelp("pytest: traceback style.", valueName: "auto|long|short|line|native|no"))
    var traceback: String?

    @Option(name: .customShort("r", allowingJoined: true),
            help: ArgumentHelp("pytest: extra summary info (fEsxXpP, a, A, N).", valueName: "chars"))
    var report: [String] = []

    @Option(name: .customShort("p", allowingJoined: true),
            help: ArgumentHelp("pytest: load a plugin, or `no:NAME` to disable one.", valueName: "name"))
    var plugins: [String] = []

    @Option(name: [.customShort("o", allowingJoined: true), .customLong("override-ini")],
            help: ArgumentHelp("pytest: override an ini option.", valueName: "name=value"))
    var overrideIni: [String] = []

    @Option(name: [.customShort("W", allowingJoined: true), .customLong("pythonwarnings")],
            help: ArgumentHelp("pytest: a Python warnings filter.", valueName: "filter"))
    var warnings: [String] = []

    @Flag(name: .customLong("runxfail"), help: "pytest: report xfail tests as if they were not marked.")
    var runxfail = false

    @Option(name: .customLong("deselect"), help: ArgumentHelp("pytest: leave out this node id prefix.", valueName: "nodeid"))
    var deselect: [String] = []

    @Option(name: .customLong("ignore"), help: ArgumentHelp("pytest: do not collect this path.", valueName: "path"))
    var ignore: [String] = []

    @Option(name: .customLong("ignore-glob"), help: ArgumentHelp("pytest: do not collect paths matching this glob.", valueName: "glob"))
    var ignoreGlob: [String] = []

    @Flag(name: [.customShort("l"), .customLong("showlocals")], help: "pytest: show locals in tracebacks.")
    var showLocals = false

    @Flag(name: .customLong("strict-markers"), help: "pytest: unknown marks are errors.")
    var strictMarkers = false

    @Flag(name: .customLong("disable-warnings"), help: "pytest: no warnings summary.")
    var disableWarnings = false

    static let tracebackStyles = ["auto", "long", "short", "line", "native", "no"]

    func validate() throws {
        if let traceback, !Self.tracebackStyles.contains(traceback) {
            throw ValidationError("--tb \(traceback) is not a traceback style: use one of \(Self.tracebackStyles.joined(separator: ", "))")
        }
        for value in overrideIni where !value.contains("=") {
            throw ValidationError("-o \(value) needs the form name=value, e.g. -o xfail_strict=true")
        }
    }

    /// The options as pytest arguments, each in pytest's own spelling.
    var arguments: [String] {
        var out: [String] = []
        for value in keyword { out += ["-k", value] }
        for value in markExpression { out += ["-m", value] }
        out += Array(repeating: "-v", count: verbose)
        out += Array(repeating: "-q", count: quiet)
        if let traceback { out.append("--tb=\(traceback)") }
        for value in report { out.append("-r\(value)") }
        for value in plugins { out += ["-p", value] }
        for value in overrideIni { out += ["-o", value] }
        for value in warnings { out += ["-W", value] }
        if runxfail { out.append("--runxfail") }
        for value in deselect { out += ["--deselect", value] }
        for value in ignore { out += ["--ignore", value] }
        for value in ignoreGlob { out += ["--ignore-glob", value] }
        if showLocals { out.append("--showlocals") }
        if strictMarkers { out.append("--strict-markers") }
        if disableWarnings { out.append("--disable-warnings") }
        return out
    }

    /// These options, then the arguments after `--`: everything every pytest gets.
    var withPassthrough: [String] { arguments + Passthrough.pytestArguments }
}
