import ArgumentParser
import Foundation

/// `--color auto|yes|no`, decided as pytest decides it (PY_COLORS, NO_COLOR,
/// FORCE_COLOR, then a terminal that is not "dumb").
struct ColorOption: ParsableArguments {
    enum Choice: String, ExpressibleByArgument, CaseIterable {
        case auto, yes, no
    }

    @Option(name: .customLong("color"), help: "Colour the output as pytest does: auto (on a terminal, unless NO_COLOR), yes or no.")
    var color: Choice = .auto

    /// Whether standard output gets colours.
    func enabled(environment: [String: String] = ProcessInfo.processInfo.environment,
                 terminal: Bool = isatty(STDOUT_FILENO) == 1) -> Bool {
        switch color {
        case .yes: return true
        case .no: return false
        case .auto:
            if let forced = environment["PY_COLORS"], forced == "1" || forced == "0" { return forced == "1" }
            if !(environment["NO_COLOR"] ?? "").isEmpty { return false }
            if !(environment["FORCE_COLOR"] ?? "").isEmpty { return true }
            return terminal && environment["TERM"] != "dumb"
        }
    }

    /// Applies the choice to everything this process prints.
    func apply() { Painter.enabled = enabled() }
}

/// pytest's terminal colours for what arun prints: the totals line, failure words,
/// collection errors. Text is escaped before it is painted, never after.
enum Painter {
    nonisolated(unsafe) static var enabled = false

    enum Colour: String {
        case red = "31", green = "32", yellow = "33"
    }

    static func paint(_ text: String, _ colour: Colour, bold: Bool = false) -> String {
        guard enabled, !text.isEmpty else { return text }
        return "\u{1B}[\(colour.rawValue)m" + (bold ? "\u{1B}[1m" : "") + text + "\u{1B}[0m"
    }

    /// pytest's totals colours: failures and errors red, passed green, the rest yellow;
    /// the counts of the main colour (red on failures, yellow on warnings, xpassed or
    /// nothing run, else green) in bold, and the time in the main colour.
    static func totals(_ line: String) -> String {
        guard enabled else { return line }
        let (counts, time): (Substring, Substring) = line.range(of: " in ", options: .backwards)
            .map { (line[..<$0.lowerBound], line[$0.lowerBound...]) } ?? (Substring(line), "")
        let parts = counts.components(separatedBy: ", ")
        let colours = parts.map(colour(of:))
        let main: Colour = colours.contains(.red) ? .red
            : parts.contains(where: { ["warning", "xpassed", "not run", "pending", "no tests"].contains(where: $0.contains) })
            ? .yellow : .green
        let painted = zip(parts, colours).map { paint($0, $1, bold: $1 == main) }
        return painted.joined(separator: ", ") + paint(String(time), main)
    }

    static func colour(of part: String) -> Colour {
        let word = part.drop { $0.isNumber || $0 == " " }
        if ["failed", "error", "errors", "crashed", "timeout", "collection error", "collection errors"].contains(String(word)) {
            return .red
        }
        return word == "passed" ? .green : .yellow
    }

    /// A collection error block: pytest paints its header and "E" lines red and bold.
    static func collectionErrorLine(_ line: String) -> String {
        line.hasPrefix("ERROR collecting") || line.hasPrefix("E ") ? paint(line, .red, bold: true) : line
    }

    /// `FAILED`, `ERROR`, … as pytest's short summary paints them.
    static func outcomeWord(_ word: String) -> String {
        paint(word, colour(of: word.lowercased()) == .green ? .green : (word == "XPASSED" || word == "XFAILED" ? .yellow : .red))
    }
}
