import Foundation
import Queue

/// Test durations in pytest-split's `.test_durations` format: a JSON object of node id
/// to seconds. `arun durations export` writes it; `arun durations import` stores one
/// in the `imported_durations` table, which the planner's balancing reads through
/// ``plannerDurations(queue:runs:)``.
public enum Durations {
    /// The latest measured duration of every test across all runs; imported durations
    /// fill in tests no run has measured.
    public static func export(from reader: some RunReader) async throws -> [String: Double] {
        var durations = try await reader.importedDurations()
        for (nodeid, seconds) in try await reader.measuredDurations(runs: nil) { durations[nodeid] = seconds }
        return durations
    }

    /// `{"node id": seconds, …}` with sorted keys, as pytest-split writes it.
    public static func json(_ durations: [String: Double]) -> String {
        guard !durations.isEmpty else { return "{}\n" }
        let lines = durations.keys.sorted().map { "    \(Escape.json($0)): \(Escape.jsonNumber(durations[$0] ?? 0))" }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }

    /// Reads a durations file: pytest-split's object of node id → seconds, or its older
    /// list of `[node id, seconds]` pairs.
    public static func parse(_ data: Data, path: String) throws -> [String: Double] {
        guard let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw ReportError.badDurations(path: path, reason: "is not JSON")
        }
        var durations: [String: Double] = [:]
        func add(_ key: String, _ seconds: Any) throws {
            guard let number = seconds as? NSNumber else {
                throw ReportError.badDurations(path: path, reason: "has a non-number duration for \(key)")
            }
            let value = number.doubleValue
            guard value.isFinite, value >= 0 else {
                throw ReportError.badDurations(path: path, reason: "has a negative or invalid duration for \(key)")
            }
            durations[key] = value
        }
        if let object = value as? [String: Any] {
            for (key, seconds) in object { try add(key, seconds) }
        } else if let pairs = value as? [[Any]] {
            for pair in pairs {
                guard pair.count == 2, let key = pair[0] as? String else {
                    throw ReportError.badDurations(path: path, reason: "has a list entry that is not [node id, seconds]")
                }
                try add(key, pair[1])
            }
        } else {
            throw ReportError.badDurations(path: path, reason: "is not a JSON object")
        }
        return durations
    }

    /// Stores durations for planning (replacing earlier imports of the same node ids).
    /// Returns how many.
    @discardableResult
    public static func importDurations(_ durations: [String: Double], into queue: some JobQueue,
                                       now: Double = Date().timeIntervalSince1970) async throws -> Int {
        try await queue.storeImportedDurations(durations, now: now)
        return durations.count
    }

    /// Imported durations only.
    public static func imported(from reader: some RunReader) async throws -> [String: Double] {
        try await reader.importedDurations()
    }
}

/// What the planner should balance jobs by: durations measured in the last `runs` runs,
/// falling back to imported ones (`arun durations import`) for tests those runs did not measure.
public func plannerDurations(queue: some RunReader, runs: Int = 5) async throws -> [String: Double] {
    var durations = try await queue.importedDurations()
    for (nodeid, seconds) in try await queue.measuredDurations(runs: runs) { durations[nodeid] = seconds }
    return durations
}
