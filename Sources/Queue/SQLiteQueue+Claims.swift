import Foundation
internal import GRDB

/// Claiming and the life of a lease.
extension SQLiteQueue {
    /// One statement under the write lock: the inner SELECT walks `jobs_claimable`
    /// in index order (no temp B-tree), so a claim costs the same with 10 or 100,000 jobs.
    /// Parameters: ?1 owner, ?2 lease expiry, ?3 now, ?4 run.
    static let claimSQL = """
        UPDATE jobs
        SET state = 'running', lease_owner = ?1, lease_expires_at = ?2, started_at = ?3
        WHERE id = (
            SELECT id FROM jobs
            WHERE run_id = ?4 AND state = 'queued' AND available_at <= ?3
            ORDER BY estimated_seconds DESC, id
            LIMIT 1)
        RETURNING id, run_id, name, attempt, max_attempts, estimated_seconds, lease_expires_at, payload
        """

    /// Parameters: ?1 now, ?2 job, ?3 owner, ?4 attempt.
    static let completeSQL = """
        UPDATE jobs SET state = 'done', finished_at = ?1, lease_expires_at = NULL
        WHERE id = ?2 AND state = 'running' AND lease_owner = ?3 AND attempt = ?4
        """

    /// The guard every other lease-holder write carries.
    static let heldByClaim = "id = :job AND state = 'running' AND lease_owner = :owner AND attempt = :attempt"

    public func claim(run: RunID, worker: String, lease: Double) async throws -> Claim? {
        let now = self.now
        return try await claimWrite { connection in
            try connection.claim(run: run, worker: worker, expires: now + lease, now: now)
        }
    }

    public func heartbeat(_ claim: Claim, lease: Double) async throws -> Bool {
        let now = self.now
        return try await write { db in
            try db.cachedStatement(sql: "UPDATE jobs SET lease_expires_at = :expires WHERE \(Self.heldByClaim)")
                .execute(arguments: Self.claimArguments(claim, ["expires": now + lease]))
            let held = db.changesCount == 1
            try db.cachedStatement(sql: "UPDATE workers SET heartbeat_at = ? WHERE id = ?")
                .execute(arguments: [now, claim.owner])
            return held
        }
    }

    @discardableResult
    public func complete(_ claim: Claim, followUps: [NewJob]) async throws -> Bool {
        let now = self.now
        guard followUps.isEmpty else {
            return try await write { db in try Self.complete(claim, followUps: followUps, now: now, db: db) }
        }
        return try await claimWrite { connection in try connection.complete(claim, now: now) }
    }

    /// One transaction for the common case, so a worker that finishes a job holds the
    /// write lock once; with follow-up jobs (rare: after a crash) they stay two.
    public func completeAndClaim(_ claim: Claim, followUps: [NewJob], lease: Double) async throws -> Handover {
        let now = self.now
        guard followUps.isEmpty else {
            let completed = try await complete(claim, followUps: followUps)
            return Handover(completed: completed, next: try await self.claim(run: claim.runID, worker: claim.owner, lease: lease))
        }
        return try await claimWrite { connection in
            let completed = try connection.complete(claim, now: now)
            let next = try connection.claim(run: claim.runID, worker: claim.owner, expires: now + lease, now: now)
            return Handover(completed: completed, next: next)
        }
    }

    /// Completion with follow-up jobs, on the pool's writer, in one transaction.
    static func complete(_ claim: Claim, followUps: [NewJob], now: Double, db: Database) throws -> Bool {
        try db.cachedStatement(sql: completeSQL)
            .execute(arguments: [now, claim.jobID, claim.owner, claim.attempt])
        guard db.changesCount == 1 else { return false }
        for job in followUps {
            _ = try insert(job, run: claim.runID, db: db)
        }
        return true
    }

    @discardableResult
    public func fail(_ claim: Claim, error: String, retry: RetryPolicy) async throws -> Bool {
        let now = self.now
        let availableAt = now + retry.delay(afterAttempt: claim.attempt)
        return try await write { db in
            try db.cachedStatement(sql: """
                UPDATE jobs SET
                    state = CASE WHEN attempt < max_attempts THEN 'queued' ELSE 'failed' END,
                    attempt = CASE WHEN attempt < max_attempts THEN attempt + 1 ELSE attempt END,
                    available_at = :available,
                    finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE :now END,
                    lease_owner = CASE WHEN attempt < max_attempts THEN NULL ELSE lease_owner END,
                    lease_expires_at = NULL,
                    error = :error
                WHERE \(Self.heldByClaim)
                """).execute(arguments: Self.claimArguments(
                    claim, ["available": availableAt, "now": now, "error": error]))
            return db.changesCount == 1
        }
    }

    @discardableResult
    public func release(_ claim: Claim) async throws -> Bool {
        try await write { db in
            try db.cachedStatement(sql: """
                UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL
                WHERE \(Self.heldByClaim)
                """).execute(arguments: Self.claimArguments(claim))
            return db.changesCount == 1
        }
    }

    /// One statement: SET expressions read the row's old values, so each expired job
    /// either comes back with attempt + 1, or dies after its last attempt, or is
    /// cancelled with its run.
    @discardableResult
    public func reclaimExpired() async throws -> Int {
        let now = self.now
        return try await write { db in
            try db.cachedStatement(sql: """
                UPDATE jobs SET
                    state = CASE
                        WHEN (SELECT status FROM runs WHERE runs.id = jobs.run_id) = 'cancelled' THEN 'cancelled'
                        WHEN attempt < max_attempts THEN 'queued'
                        ELSE 'dead' END,
                    attempt = CASE WHEN attempt < max_attempts THEN attempt + 1 ELSE attempt END,
                    finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE :now END,
                    error = 'lease of ' || lease_owner || ' expired',
                    lease_owner = NULL,
                    lease_expires_at = NULL,
                    available_at = :now
                WHERE state = 'running' AND lease_expires_at < :now
                """).execute(arguments: ["now": now])
            return db.changesCount
        }
    }

    @discardableResult
    public func cancel(run: RunID) async throws -> Int {
        let now = self.now
        return try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [run]) == true else {
                throw QueueError.unknownRun(run)
            }
            try db.execute(sql: "UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE run_id = ? AND state = 'queued'",
                           arguments: [now, run])
            let cancelled = db.changesCount
            try db.execute(sql: "UPDATE runs SET status = 'cancelled', finished_at = ? WHERE id = ?",
                           arguments: [now, run])
            return cancelled
        }
    }

    static func claimArguments(_ claim: Claim, _ extra: [String: (any DatabaseValueConvertible)?] = [:]) -> StatementArguments {
        var arguments: StatementArguments = ["job": claim.jobID, "owner": claim.owner, "attempt": claim.attempt]
        _ = arguments.append(contentsOf: StatementArguments(extra))
        return arguments
    }
}
