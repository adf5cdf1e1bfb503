import Foundation
import Queue

/// The formats `arun report --format` writes.
public enum ReportFormat: String, Sendable, CaseIterable {
    case text, json, junit, markdown, html

    /// Formats that show captured output (the loader reads it only then).
    public var needsOutput: Bool { self != .markdown }
    /// JUnit has no place for order-dependent tests: it skips reading both runs' attempts.
    public var showsOrder: Bool { self != .junit }
}

extension RunReport {
    /// The report in `format`. `statuses` (from `--status`) limits the tests listed by
    /// `text` and `json`; totals always cover the whole run. `environment` gives the text
    /// report pytest's terminal width (`COLUMNS`) and CI detection (`CI`, `BUILD_NUMBER`).
    public func render(_ format: ReportFormat, statuses: Set<String>? = nil, now: Date = Date(),
                       environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        switch format {
        case .text: textReport(statuses: statuses, environment: environment)
        case .json: jsonReport(statuses: statuses)
        case .junit: junitReport(now: now)
        case .markdown: markdownReport()
        case .html: htmlReport(now: now)
        }
    }
}

/// Small formatting helpers shared by the formats.
enum Format {
    static func seconds(_ value: Double) -> String {
        if value >= 100 { return String(format: "%.0fs", value) }
        return String(format: "%.2fs", value)
    }

    static func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }

    /// `2024-05-01T12:00:00` in UTC, the form the JUnit schemas ask for.
    static func isoTimestamp(_ seconds: Double) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// `2024-05-01 12:00:00 UTC` for people.
    static func humanTime(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        return isoTimestamp(seconds).replacingOccurrences(of: "T", with: " ") + " UTC"
    }

    /// A failure text without the blank lines pytest's terminal puts before a traceback.
    static func failureText(_ text: String) -> String {
        guard text.first?.isNewline == true else { return text }
        return String(text.drop { $0.isNewline })
    }

    /// The first line of a message, trimmed.
    static func firstLine(_ text: String?) -> String? {
        guard let text else { return nil }
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: true).first
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return line?.isEmpty == false ? line : nil
    }
}
