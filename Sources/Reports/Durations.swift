import Foundation
import GRDB
import Queue

/// Test durations in pytest-split's `.test_durations` format: a JSON object of node id
/// to seconds. `arun durations export` writes it; `arun durations import` stores one
/// in the `imported_durations` table, which the planner's balancing reads through
/// ``plannerDurations(queue:runs:)``.
public enum Durations {
    /// Outcomes whose duration measured the test's body (skips took no time).
    static let measuredSQL = "('passed', 'failed', 'error', 'xfailed', 'xpassed')"

    /// The latest measured duration of every test across all runs; imported durations
    /// fill in tests no run has measured.
    public static func export(from queue: SQLiteQueue) throws -> [String: Double] {
        try queue.readSync { db in
            var durations = try imported(db)
            // Runs in id order, attempts in order: the last row seen for a node id is its latest.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT t.nodeid, r.duration FROM results r JOIN tests t ON t.id = r.test_id
                WHERE r.outcome IN \(measuredSQL)
                ORDER BY r.run_id, r.attempt
                """)
            while let row = try rows.next() { durations[row[0]] = row[1] }
            return durations
        }
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

    /// Stores durations in `imported_durations` (replacing earlier imports of the same
    /// node ids). Returns how many.
    @discardableResult
    public static func importDurations(_ durations: [String: Double], into queue: SQLiteQueue,
                                       now: Double = Date().timeIntervalSince1970) throws -> Int {
        try queue.writeSync { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO imported_durations (nodeid, seconds, imported_at) VALUES (?, ?, ?)
                ON CONFLICT (nodeid) DO UPDATE SET seconds = excluded.seconds, imported_at = excluded.imported_at
                """)
            for (nodeid, seconds) in durations { try statement.execute(arguments: [nodeid, seconds, now]) }
        }
        return durations.count
    }

    static func imported(_ db: Database) throws -> [String: Double] {
        var durations: [String: Double] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT nodeid, seconds FROM imported_durations")
        while let row = try rows.next() { durations[row[0]] = row[1] }
        return durations
    }

    /// Imported durations only.
    public static func imported(from queue: SQLiteQueue) throws -> [String: Double] {
        try queue.readSync { db in try imported(db) }
    }
}

/// What the planner should balance jobs by: durations measured in the last `runs` runs
/// (``SQLiteQueue/recentDurations(runs:)``), falling back to imported ones
/// (`arun durations import`) for tests those runs did not measure.
public func plannerDurations(queue: SQLiteQueue, runs: Int = 5) throws -> [String: Double] {
    var durations = try Durations.imported(from: queue)
    for (nodeid, seconds) in try queue.recentDurations(runs: runs) { durations[nodeid] = seconds }
    return durations
}

extension SQLiteQueue {
    /// One write transaction on the calling thread, for commands that write a little
    /// outside the queue's own API (imports). Waits for the lock up to the busy timeout.
    func writeSync<T>(_ updates: (Database) throws -> T) throws -> T {
        // The queue's pool is internal to Queue; a second connection writes as safely
        // (WAL, busy timeout) and is closed at once.
        var configuration = Configuration()
        configuration.busyMode = .timeout(self.configuration.busyTimeout)
        do {
            let connection = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? connection.close() }
            return try connection.write(updates)
        } catch let error as DatabaseError {
            throw QueueError.database(error.description)
        }
    }
}
