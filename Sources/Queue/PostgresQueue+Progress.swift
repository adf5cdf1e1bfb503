import Foundation
import PostgresNIO

/// Live progress's reads (``ProgressReader``) on PostgreSQL. `results.seq` comes from
/// one sequence: numbers follow writes, and a result whose transaction commits after a
/// later-numbered one may be seen late by the live line (the final summary reads all).
extension PostgresQueue: ProgressReader {
    public func results(of run: RunID, after seq: Int64, limit: Int) async throws -> [ResultChange] {
        try await statement { connection, _ in
            var changes: [ResultChange] = []
            let rows = try await connection.query(SQL("""
                SELECT r.seq, r.test_id, r.attempt, r.outcome, r.duration,
                       CASE WHEN r.outcome = ANY(\(Self.outcomes(Outcome.failures)))
                            THEN (SELECT nodeid FROM tests WHERE id = r.test_id) END,
                       CASE WHEN r.outcome = ANY(\(Self.outcomes(Outcome.failures))) THEN r.message END,
                       r.extra
                FROM results r WHERE r.run_id = \(run) AND r.seq > \(seq) ORDER BY r.seq LIMIT \(Int64(limit))
                """).query, logger: PostgresConnections.logger)
            for try await (number, test, attempt, outcome, duration, nodeid, message, extra) in rows.decode(
                (Int64, Int64, Int, String, Double, String?, String?, String?).self) {
                changes.append(ResultChange(seq: number, testID: test, attempt: attempt,
                                            outcome: Outcome(rawValue: outcome) ?? .failed, duration: duration,
                                            nodeid: nodeid, message: message, extra: extra))
            }
            return changes
        }
    }

    public func tests(of run: RunID, after id: TestID, limit: Int) async throws -> [RegisteredTest] {
        try await statement { connection, _ in
            var tests: [RegisteredTest] = []
            let rows = try await connection.query(SQL("""
                SELECT id, file FROM tests WHERE id > \(id) AND run_id = \(run) ORDER BY id LIMIT \(Int64(limit))
                """).query, logger: PostgresConnections.logger)
            for try await (id, file) in rows.decode((Int64, String).self) { tests.append(RegisteredTest(id: id, file: file)) }
            return tests
        }
    }

    public func jobOutlines(run: RunID) async throws -> [JobOutline] {
        try await statement { connection, _ in
            var jobs: [JobOutline] = []
            let rows = try await connection.query(
                SQL("SELECT state, estimated_seconds, payload FROM jobs WHERE run_id = \(run)").query,
                logger: PostgresConnections.logger)
            for try await (state, estimate, payload) in rows.decode((String, Double, String).self) {
                jobs.append(JobOutline(state: JobState(rawValue: state) ?? .queued, estimatedSeconds: estimate,
                                       payload: payload))
            }
            return jobs
        }
    }

    public func lastResultSeq(of run: RunID) async throws -> Int64 {
        try await statement { connection, _ in
            Int64(try await Self.count(connection, "SELECT COALESCE(MAX(seq), 0)::int8 FROM results WHERE run_id = \(run)"))
        }
    }

    public func unrunPayloads(run: RunID) async throws -> [String] {
        try await statement { connection, _ in
            try await Self.rows(connection, """
                SELECT j.payload FROM jobs j WHERE j.run_id = \(run) AND j.state = 'cancelled'
                  AND NOT EXISTS (SELECT 1 FROM job_tests jt WHERE jt.job_id = j.id) ORDER BY j.id
                """, as: String.self)
        }
    }

    public func addActiveSeconds(_ seconds: Double, to run: RunID) async throws {
        guard seconds > 0 else { return }
        try await statement { connection, _ in
            try await Self.execute(connection, "UPDATE runs SET active_seconds = active_seconds + \(seconds) WHERE id = \(run)")
        }
    }
}
