import Foundation
import Pytest
import Queue

/// Turns the plugin's `result` events into queue records.
enum ResultMapping {
    static func result(from event: PluginEvent, test: JobTest, startedAt: Double, now: Double) -> TestResult {
        let outcome = event.outcome.flatMap(Outcome.init(rawValue:)) ?? .error
        return TestResult(
            testID: test.testID, attempt: test.attempt, outcome: outcome, duration: event.duration ?? 0,
            startedAt: startedAt, finishedAt: now, message: event.message, details: event.details,
            stdout: event.stdout, stderr: event.stderr, extra: extra(from: event), sections: sections(from: event))
    }

    /// The captured sections as stored: a JSON array of `[title, text]` pairs.
    static func sections(from event: PluginEvent) -> String? {
        guard let sections = event.sections, !sections.isEmpty,
              let data = try? JSONEncoder().encode(sections) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// What pytest counts beyond the one outcome: a teardown error after the call,
    /// the call's own outcome, subtests. Nil when there is nothing.
    static func extra(from event: PluginEvent) -> String? {
        var fields: [String: any Encodable & Sendable] = [:]
        if event.teardownError == true { fields["teardown_error"] = true }
        if let call = event.callOutcome { fields["call_outcome"] = call }
        if let subtests = event.subtests { fields["subtests"] = subtests }
        if let head = event.head { fields["head"] = head }
        if let location = event.skipLocation { fields["skip_location"] = location }
        if let crash = event.crash { fields["crash"] = crash }
        guard !fields.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try? String(decoding: encoder.encode(ExtraFields(fields: fields)), as: UTF8.self)
    }

    /// A result for a test that never reported one.
    static func synthetic(_ test: JobTest, _ outcome: Outcome, message: String, startedAt: Double?, now: Double)
        -> TestResult {
        TestResult(testID: test.testID, attempt: test.attempt, outcome: outcome,
                   duration: startedAt.map { now - $0 } ?? 0, startedAt: startedAt, finishedAt: now,
                   message: message)
    }
}

private struct ExtraFields: Encodable {
    var fields: [String: any Encodable & Sendable]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in fields { try container.encode(value, forKey: Key(stringValue: key)) }
    }
}
