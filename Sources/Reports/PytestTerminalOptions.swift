import Foundation

/// The terminal options of the run's pytest arguments that decide what pytest prints
/// after the tests: `-r` characters and `--tb` style.
public struct PytestTerminalOptions: Sendable, Equatable {
    /// pytest's effective report characters (`getreportopt`): `fE` by default.
    public var reportChars: String
    /// `auto`, `long`, `short`, `line`, `native` or `no`.
    public var tracebackStyle: String

    public init(reportChars: String = "fE", tracebackStyle: String = "auto") {
        self.reportChars = reportChars
        self.tracebackStyle = tracebackStyle
    }

    /// Reads `-r CHARS`, `-rCHARS`, `--tb STYLE`, `--tb=STYLE` and `--disable-warnings` as
    /// pytest's parser would (the last one wins), and folds the characters as pytest does.
    public init(arguments: [String]) {
        var chars = "fE"
        var style = "auto"
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let next = index + 1 < arguments.count ? arguments[index + 1] : nil
            if argument == "--" { break }
            if argument == "-r", let next {
                chars = next
                index += 1
            } else if argument.hasPrefix("-r"), argument.count > 2, !argument.hasPrefix("--") {
                chars = String(argument.dropFirst(2))
            } else if argument == "--tb", let next {
                style = next
                index += 1
            } else if argument.hasPrefix("--tb=") {
                style = String(argument.dropFirst("--tb=".count))
            }
            index += 1
        }
        self.init(reportChars: Self.fold(chars), tracebackStyle: style)
    }

    /// pytest's `getreportopt` without the warnings character: `a` is `sxXEf`, `A` is
    /// `PpsxXEf`, `N` clears, `F`/`S` are old spellings of `f`/`s`.
    static func fold(_ chars: String) -> String {
        var options = ""
        for var char in chars {
            if char == "F" || char == "S" { char = Character(char.lowercased()) }
            switch char {
            case "a": options = "sxXEf"
            case "A": options = "PpsxXEf"
            case "N": options = ""
            default: if !options.contains(char) { options.append(char) }
            }
        }
        return options.replacingOccurrences(of: "w", with: "")
    }

    public func shows(_ char: Character) -> Bool { reportChars.contains(char) }
}
