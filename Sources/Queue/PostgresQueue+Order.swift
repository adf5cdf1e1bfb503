import Foundation
import PostgresNIO

/// What order-dependent tests are told by, on PostgreSQL: the same questions as SQLite's.
extension PostgresQueue {
    public func samePlanRun(before run: RunID) async throws -> RunID? {
        try await statement { connection, _ in
            try await Self.rows(connection, """
                SELECT e.id FROM (
                    SELECT c.id FROM runs c JOIN runs r ON r.id = \(run)
                    WHERE c.id < r.id AND c.directory = r.directory AND c.paths = r.paths
                      AND c.pytest_args = r.pytest_args
                    ORDER BY c.id DESC LIMIT 20) e
                WHERE (SELECT COUNT(*) FROM tests WHERE run_id = e.id) = (SELECT COUNT(*) FROM tests WHERE run_id = \(run))
                  AND NOT EXISTS (SELECT 1 FROM tests a WHERE a.run_id = \(run)
                                  AND NOT EXISTS (SELECT 1 FROM tests b WHERE b.run_id = e.id AND b.nodeid = a.nodeid))
                ORDER BY e.id DESC LIMIT 1
                """, as: Int64.self).first
        }
    }

    public func processedAttempts(run: RunID) async throws -> [ProcessedAttempt] {
        try await statement { connection, _ in
            var attempts: [ProcessedAttempt] = []
            let rows = try await connection.query(SQL("""
                SELECT t.nodeid, t.file, r.attempt, r.outcome, r.worker, r.process::int8, r.started_at, r.finished_at
                FROM results r JOIN tests t ON t.id = r.test_id WHERE r.run_id = \(run)
                """).query, logger: PostgresConnections.logger)
            for try await (nodeid, file, attempt, outcome, worker, process, started, finished) in rows.decode(
                (String, String, Int, String, String?, Int64?, Double?, Double?).self) {
                guard let outcome = Outcome(rawValue: outcome) else { continue }
                attempts.append(ProcessedAttempt(nodeid: nodeid, file: file, attempt: attempt, outcome: outcome,
                                                 worker: worker, process: process.map { Int32(truncatingIfNeeded: $0) },
                                                 startedAt: started, finishedAt: finished))
            }
            return attempts
        }
    }
}
