import Foundation
import PostgresNIO

/// Claiming and the life of a lease, on the server's clock.
extension PostgresQueue {
    /// The claimed job's columns, in ``claim(from:owner:)``'s order.
    static let claimColumns = "j.id, j.run_id, j.name, j.attempt, j.max_attempts, j.estimated_seconds, j.lease_expires_at, j.payload"

    /// The longest claimable job of a run, locked without waiting for rows other workers
    /// hold. MATERIALIZED keeps the planner from inlining the CTE into the UPDATE, where
    /// the LIMIT and SKIP LOCKED could be applied to more rows than the one it returns.
    /// The ORDER BY matches `jobs_claimable` (run_id, estimated_seconds DESC, id).
    static func nextJobCTE(run: RunID, now: SQL) -> SQL {
        """
        next AS MATERIALIZED (
            SELECT id FROM jobs
            WHERE run_id = \(run) AND state = 'queued' AND available_at <= \(now)
            ORDER BY estimated_seconds DESC, id
            LIMIT 1
            FOR UPDATE SKIP LOCKED)
        """
    }

    /// The claim statement; `$token` marks the claim so that a repeat after a broken
    /// connection can find it.
    static func claimQuery(run: RunID, worker: String, lease: Double, token: Int64, now: SQL) -> SQL {
        """
            WITH \(nextJobCTE(run: run, now: now))
            UPDATE jobs j SET state = 'running', lease_owner = \(worker), lease_expires_at = \(now) + \(lease),
                started_at = \(now), claim_token = \(token)
            FROM next WHERE j.id = next.id
            RETURNING \(unescaped: claimColumns)
            """
    }

    /// Completion and the next claim in one statement: the next job is claimed only when
    /// the completion held. One row: how many jobs completed (0 or 1), then the claimed
    /// job's columns or NULLs.
    static func completeAndClaimQuery(_ claim: Claim, lease: Double, token: Int64, now: SQL) -> SQL {
        """
        WITH done AS (\(completeQuery(claim, now: now))),
        \(nextJobCTE(run: claim.runID, now: now)),
        claimed AS (
            UPDATE jobs j SET state = 'running', lease_owner = \(claim.owner),
                lease_expires_at = \(now) + \(lease), started_at = \(now), claim_token = \(token)
            FROM next WHERE j.id = next.id AND EXISTS (SELECT 1 FROM done)
            RETURNING \(unescaped: claimColumns))
        SELECT (SELECT count(*) FROM done)::int8, claimed.* FROM (SELECT 1) AS one LEFT JOIN claimed ON true
        """
    }

    public func claim(run: RunID, worker: String, lease: Double) async throws -> Claim? {
        let token = Int64.random(in: 1...Int64.max)
        let clock = clockReading
        return try await statement { connection, isRepeat in
            try await Self.claim(connection, run: run, worker: worker, lease: lease, token: token, isRepeat: isRepeat,
                                 clock: clock)
        }
    }

    static func claim(_ connection: PostgresConnection, run: RunID, worker: String, lease: Double, token: Int64,
                      isRepeat: Bool, clock: Double?) async throws -> Claim? {
        if isRepeat {
            // The first try may have committed before its answer was lost.
            let held = try await connection.query(SQL("""
                SELECT \(unescaped: claimColumns) FROM jobs j
                WHERE j.claim_token = \(token) AND j.lease_owner = \(worker) AND j.state = 'running'
                """).query, logger: PostgresConnections.logger)
            for try await row in held { return try claim(from: row, owner: worker) }
        }
        let statement = ClaimStatement(run: run, worker: worker, lease: lease, token: token, clock: clock)
        for try await claimed in try await connection.execute(statement, logger: PostgresConnections.logger) {
            return claimed
        }
        return nil
    }

    static func claim(from row: PostgresRow, owner: String) throws -> Claim {
        let (id, run, name, attempt, maxAttempts, estimate, expires, payload) =
            try row.decode((Int64, Int64, String, Int, Int, Double, Double, String).self)
        return Claim(jobID: id, runID: run, name: name, owner: owner, attempt: attempt, maxAttempts: maxAttempts,
                     estimatedSeconds: estimate, leaseExpiresAt: expires, payload: payload)
    }

    /// The guard of every write that carries a claim (aliased `jobs`).
    static func held(_ claim: Claim) -> SQL {
        "id = \(claim.jobID) AND state = 'running' AND lease_owner = \(claim.owner) AND attempt = \(claim.attempt)"
    }

    /// Completion is idempotent: a repeat after a lost answer finds the job already done
    /// by the same owner and attempt and reports success again.
    static func completeQuery(_ claim: Claim, now: SQL) -> SQL {
        """
        UPDATE jobs SET state = 'done', lease_expires_at = NULL,
            finished_at = CASE WHEN state = 'done' THEN finished_at ELSE \(now) END
        WHERE id = \(claim.jobID) AND lease_owner = \(claim.owner) AND attempt = \(claim.attempt)
          AND state IN ('running', 'done')
        RETURNING 1
        """
    }

    /// Runs a prepared statement whose rows are `RETURNING 1`; returns how many.
    static func rowCount<Statement: PostgresPreparedStatement>(
        _ connection: PostgresConnection, _ statement: Statement
    ) async throws -> Int {
        var count = 0
        for try await _ in try await connection.execute(statement, logger: PostgresConnections.logger) { count += 1 }
        return count
    }

    public func heartbeat(_ claim: Claim, lease: Double) async throws -> Bool {
        let beat = HeartbeatStatement(claim: claim, lease: lease, clock: clockReading)
        return try await statement { connection, _ in try await Self.rowCount(connection, beat) == 1 }
    }

    @discardableResult
    public func complete(_ claim: Claim, followUps: [NewJob]) async throws -> Bool {
        let completion = CompleteStatement(claim: claim, clock: clockReading)
        guard followUps.isEmpty else {
            return try await transaction(verifyCommit: true) { connection in
                guard try await Self.rowCount(connection, completion) == 1 else { return false }
                _ = try await Self.insert(followUps, run: claim.runID, connection: connection)
                return true
            }
        }
        return try await statement { connection, _ in try await Self.rowCount(connection, completion) == 1 }
    }

    /// One statement: the completion and the next claim commit together, so a worker
    /// moving from job to job pays one round trip and one commit.
    public func completeAndClaim(_ claim: Claim, followUps: [NewJob], lease: Double) async throws -> Handover {
        guard followUps.isEmpty else {
            let completed = try await complete(claim, followUps: followUps)
            return Handover(completed: completed, next: try await self.claim(run: claim.runID, worker: claim.owner, lease: lease))
        }
        let token = Int64.random(in: 1...Int64.max)
        let clock = clockReading
        let handover = try await statement { connection, isRepeat -> Handover in
            if isRepeat {
                let completed = try await Self.rowCount(connection, CompleteStatement(claim: claim, clock: clock)) == 1
                let next = try await Self.claim(connection, run: claim.runID, worker: claim.owner, lease: lease,
                                                token: token, isRepeat: true, clock: clock)
                return Handover(completed: completed, next: next)
            }
            let statement = CompleteAndClaimStatement(claim: claim, lease: lease, token: token, clock: clock)
            var handover = Handover(completed: false, next: nil)
            for try await row in try await connection.execute(statement, logger: PostgresConnections.logger) {
                handover = row
            }
            return handover
        }
        if handover.completed && handover.next == nil {
            // The tail of the run: workers waiting for jobs learn that one more finished.
            try await notify(run: claim.runID)
        }
        if !handover.completed && handover.next == nil {
            // The completion did not hold, so nothing was claimed in its statement either.
            return Handover(completed: false, next: try await self.claim(run: claim.runID, worker: claim.owner, lease: lease))
        }
        return handover
    }

    /// Wakes the workers of a run that wait in ``waitForWork(run:upTo:)``.
    func notify(run: RunID) async throws {
        try await statement { connection, _ in
            try await Self.execute(connection, "SELECT pg_notify('arun_jobs', \(String(run)))")
        }
    }

    @discardableResult
    public func fail(_ claim: Claim, error: String, retry: RetryPolicy) async throws -> Bool {
        let delay = retry.delay(afterAttempt: claim.attempt)
        return try await statement { connection, _ in
            try await Self.execute(connection, """
                UPDATE jobs SET
                    state = CASE WHEN attempt < max_attempts THEN 'queued' ELSE 'failed' END,
                    available_at = \(unescaped: now) + \(delay),
                    finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE \(unescaped: now) END,
                    lease_owner = CASE WHEN attempt < max_attempts THEN NULL ELSE lease_owner END,
                    attempt = CASE WHEN attempt < max_attempts THEN attempt + 1 ELSE attempt END,
                    lease_expires_at = NULL,
                    error = \(error)
                WHERE \(Self.held(claim))
                RETURNING 1
                """) == 1
        }
    }

    @discardableResult
    public func release(_ claim: Claim) async throws -> Bool {
        try await statement { connection, _ in
            try await Self.execute(connection, """
                UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL
                WHERE \(Self.held(claim)) RETURNING 1
                """) == 1
        }
    }

    /// SET expressions read the row's old values, as on SQLite; `jobs_leased` keeps this
    /// to the running jobs, so idle workers may call it often.
    @discardableResult
    public func reclaimExpired() async throws -> Int {
        try await statement { connection, _ in
            try await Self.execute(connection, """
                UPDATE jobs j SET
                    state = CASE
                        WHEN r.status = 'cancelled' THEN 'cancelled'
                        WHEN j.attempt < j.max_attempts THEN 'queued'
                        ELSE 'dead' END,
                    attempt = CASE WHEN j.attempt < j.max_attempts THEN j.attempt + 1 ELSE j.attempt END,
                    finished_at = CASE WHEN j.attempt < j.max_attempts THEN NULL ELSE \(unescaped: now) END,
                    error = 'lease of ' || j.lease_owner || ' expired',
                    lease_owner = NULL,
                    lease_expires_at = NULL,
                    available_at = \(unescaped: now)
                FROM runs r
                WHERE r.id = j.run_id AND j.state = 'running' AND j.lease_expires_at < \(unescaped: now)
                RETURNING 1
                """)
        }
    }

    @discardableResult
    public func cancel(run: RunID) async throws -> Int {
        try await transaction { connection in
            guard try await Self.execute(connection, """
                UPDATE runs SET status = 'cancelled', finished_at = \(unescaped: now) WHERE id = \(run) RETURNING 1
                """) == 1 else { throw QueueError.unknownRun(run) }
            return try await Self.execute(connection, """
                UPDATE jobs SET state = 'cancelled', finished_at = \(unescaped: now)
                WHERE run_id = \(run) AND state = 'queued' RETURNING 1
                """)
        }
    }

    public func counts(run: RunID) async throws -> JobCounts {
        try await statement { connection, _ in
            var counts = JobCounts()
            let rows = try await connection.query(
                SQL("SELECT state, count(*)::int8 FROM jobs WHERE run_id = \(run) GROUP BY state").query,
                logger: PostgresConnections.logger)
            for try await (state, count) in rows.decode((String, Int64).self) {
                if let state = JobState(rawValue: state) { counts.byState[state] = Int(count) }
            }
            return counts
        }
    }
}

extension PostgresQueue {
    /// Marks a running run complete when no job is queued or running (the worker that
    /// finishes the last job calls it); the run row is locked first, so two workers that
    /// finish at once decide once.
    @discardableResult
    public func completeIfDrained(run: RunID) async throws -> Bool {
        try await statement { connection, _ in
            try await Self.execute(connection, """
                UPDATE runs SET status = 'complete', finished_at = \(unescaped: now)
                WHERE id = \(run) AND status = 'running'
                  AND NOT EXISTS (SELECT 1 FROM jobs WHERE run_id = \(run) AND state IN ('queued', 'running'))
                RETURNING 1
                """) == 1
        }
    }
}
