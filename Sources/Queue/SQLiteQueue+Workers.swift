import Foundation
internal import GRDB

/// A worker that registered and has not said it stopped.
public struct RegisteredWorker: Sendable, Equatable {
    public var id: String
    public var run: RunID?
    public var host: String
    public var pid: Int32
    /// Unix seconds of its registration.
    public var startedAt: Double
}

/// What a supervisor needs to take a dead worker's jobs back at once, instead of
/// waiting for their leases.
extension SQLiteQueue {
    /// Workers on `host` that registered and have not stopped.
    public func activeWorkers(host: String) throws -> [RegisteredWorker] {
        try readSync { db in
            try Row.fetchAll(db, sql: """
                SELECT id, run_id, host, pid, started_at FROM workers WHERE stopped_at IS NULL AND host = ?
                """, arguments: [host]).map {
                RegisteredWorker(id: $0[0], run: $0[1], host: $0[2], pid: $0[3], startedAt: $0[4])
            }
        }
    }

    /// Hands the running jobs of workers known to be dead back to the queue without
    /// spending an attempt (the worker died, not the job; a supervisor bounds how often),
    /// and marks those workers stopped. Returns the jobs handed back.
    @discardableResult
    public func releaseJobs(ofWorkers ids: [String], reason: String) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let now = self.now
        return try await write { db in
            var released = 0
            for id in ids {
                try db.execute(sql: """
                    UPDATE jobs SET
                        state = CASE WHEN (SELECT status FROM runs WHERE runs.id = jobs.run_id) = 'cancelled'
                                     THEN 'cancelled' ELSE 'queued' END,
                        lease_owner = NULL, lease_expires_at = NULL, available_at = ?, error = ?
                    WHERE state = 'running' AND lease_owner = ?
                    """, arguments: [now, reason, id])
                released += db.changesCount
                try db.execute(sql: "UPDATE workers SET stopped_at = ? WHERE id = ? AND stopped_at IS NULL",
                               arguments: [now, id])
            }
            return released
        }
    }

    /// A run still marked running that no registered worker works on any more (its
    /// workers died with their supervisor) is settled: complete when no job is open,
    /// else interrupted. Returns the runs whose status changed.
    @discardableResult
    public func settleAbandoned(runs: [RunID]) async throws -> [RunID] {
        guard !runs.isEmpty else { return [] }
        let now = self.now
        return try await write { db in
            var settled: [RunID] = []
            for run in Set(runs) {
                let orphaned = try Bool.fetchOne(db, sql: """
                    SELECT 1 FROM runs WHERE id = ? AND status = 'running'
                      AND NOT EXISTS (SELECT 1 FROM workers WHERE run_id = runs.id AND stopped_at IS NULL)
                    """, arguments: [run]) ?? false
                guard orphaned else { continue }
                let status = try Self.counts(run: run, db: db).open == 0 ? "complete" : "interrupted"
                try db.execute(sql: "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                               arguments: [status, now, run])
                settled.append(run)
            }
            return settled
        }
    }

    /// For the tests of a run that were never learned: open jobs that list no tests yet
    /// (jobs of whole files nobody has collected). Returns their payloads.
    public func uncollectedPayloads(run: RunID) throws -> [String] {
        try readSync { db in
            try String.fetchAll(db, sql: """
                SELECT payload FROM jobs j
                WHERE run_id = ? AND state IN ('queued', 'running')
                  AND NOT EXISTS (SELECT 1 FROM job_tests jt WHERE jt.job_id = j.id)
                """, arguments: [run])
        }
    }
}
