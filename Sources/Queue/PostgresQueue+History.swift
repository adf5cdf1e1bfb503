import Foundation
import PostgresNIO

/// Questions about earlier runs that planning and `arun work` ask, as on SQLite.
extension PostgresQueue {
    /// The latest recorded duration of every test in the last `runs` runs.
    public func recentDurations(runs: Int = 5) async throws -> [String: Double] {
        try await statement { connection, _ in
            var durations: [String: Double] = [:]
            let rows = try await connection.query(SQL("""
                SELECT t.nodeid, r.duration FROM results r JOIN tests t ON t.id = r.test_id
                WHERE r.run_id IN (SELECT id FROM runs ORDER BY id DESC LIMIT \(Int64(runs)))
                  AND r.outcome IN ('passed', 'failed', 'error', 'xfailed', 'xpassed')
                ORDER BY r.run_id, r.attempt
                """).query, logger: PostgresConnections.logger)
            for try await (nodeid, duration) in rows.decode((String, Double).self) { durations[nodeid] = duration }
            return durations
        }
    }

    /// Durations imported with `arun durations import`.
    public func importedDurations() async throws -> [String: Double] {
        try await statement { connection, _ in
            var durations: [String: Double] = [:]
            let rows = try await connection.query("SELECT nodeid, seconds FROM imported_durations",
                                                  logger: PostgresConnections.logger)
            for try await (nodeid, seconds) in rows.decode((String, Double).self) { durations[nodeid] = seconds }
            return durations
        }
    }

    /// The newest run, if any.
    public func latestRun() async throws -> Run? {
        try await statement { connection, _ in
            let rows = try await connection.query(
                SQL("SELECT \(unescaped: Self.runColumns) FROM runs ORDER BY id DESC LIMIT 1").query,
                logger: PostgresConnections.logger)
            for try await row in rows { return try Self.run(from: row) }
            return nil
        }
    }

    /// Every run id, newest first.
    public func runIDs() async throws -> [RunID] {
        try await statement { connection, _ in
            try await Self.rows(connection, "SELECT id FROM runs ORDER BY id DESC", as: Int64.self)
        }
    }
}
