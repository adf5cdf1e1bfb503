import Foundation
internal import GRDB

/// What order-dependent tests are told by: the earlier run of the same plan, and which
/// pytest process ran each attempt.
extension SQLiteReader {
    public func samePlanRun(before run: RunID) async throws -> RunID? {
        try await read { db in
            try RunID.fetchOne(db, sql: SQLiteQueue.samePlanSQL, arguments: [run, run, run])
        }
    }

    public func processedAttempts(run: RunID) async throws -> [ProcessedAttempt] {
        try await read { db in
            var attempts: [ProcessedAttempt] = []
            let rows = try Row.fetchCursor(db, sql: """
                SELECT t.nodeid, t.file, r.attempt, r.outcome, r.worker, r.process, r.started_at, r.finished_at
                FROM results r JOIN tests t ON t.id = r.test_id WHERE r.run_id = ?
                """, arguments: [run])
            while let row = try rows.next() {
                guard let outcome = (row[3] as String?).flatMap(Outcome.init(rawValue:)) else { continue }
                attempts.append(ProcessedAttempt(nodeid: row[0], file: row[1], attempt: row[2], outcome: outcome,
                                                 worker: row[4], process: row[5], startedAt: row[6], finishedAt: row[7]))
            }
            return attempts
        }
    }
}

extension SQLiteQueue {
    /// Arguments: the run three times. The 20 latest earlier runs with the same directory,
    /// paths and pytest arguments, then the latest whose node ids are the run's: as many,
    /// and none of the run's missing (node ids are unique per run).
    static let samePlanSQL = """
        SELECT e.id FROM (
            SELECT c.id FROM runs c JOIN runs r ON r.id = ?
            WHERE c.id < r.id AND c.directory = r.directory AND c.paths = r.paths AND c.pytest_args = r.pytest_args
            ORDER BY c.id DESC LIMIT 20) e
        WHERE (SELECT COUNT(*) FROM tests WHERE run_id = e.id) = (SELECT COUNT(*) FROM tests WHERE run_id = ?)
          AND NOT EXISTS (SELECT 1 FROM tests a WHERE a.run_id = ?
                          AND NOT EXISTS (SELECT 1 FROM tests b WHERE b.run_id = e.id AND b.nodeid = a.nodeid))
        ORDER BY e.id DESC LIMIT 1
        """

    public func samePlanRun(before run: RunID) async throws -> RunID? { try await reader.samePlanRun(before: run) }
    public func processedAttempts(run: RunID) async throws -> [ProcessedAttempt] {
        try await reader.processedAttempts(run: run)
    }
}
