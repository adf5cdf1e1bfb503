import PostgresNIO

// The statements a worker sends for every job (claim, complete, complete-and-claim,
// heartbeat), prepared once per connection: the server parses and plans them once
// instead of on every call, and a call is one Bind/Execute/Sync. Each statement's text
// is the ``SQL`` the queue composes anyway, rendered once from a template (the text never
// depends on the values, only the bindings do), so text and bindings cannot drift apart.
// The time is a bound parameter too (``PostgresQueue/now(_:)``): NULL on the server's
// clock, a test's clock in the conformance suite. Names are constants: PostgresNIO asks
// for a statement's name on every call, and the default renders the type's name each time.

/// Claims the run's longest claimable job; a row is the claim.
struct ClaimStatement: PostgresPreparedStatement {
    static let name = "arun_claim"
    static let sql = ClaimStatement(run: 0, worker: "", lease: 0, token: 0, clock: nil).statement.query.sql

    var run: RunID
    var worker: String
    var lease: Double
    var token: Int64
    var clock: Double?

    var statement: SQL {
        PostgresQueue.claimQuery(run: run, worker: worker, lease: lease, token: token, now: PostgresQueue.now(clock))
    }

    func makeBindings() -> PostgresBindings { statement.bindings }

    func decodeRow(_ row: PostgresRow) throws -> Claim { try PostgresQueue.claim(from: row, owner: worker) }
}

/// Marks a claimed job done; one row (`RETURNING 1`) when the claim held.
struct CompleteStatement: PostgresPreparedStatement {
    static let name = "arun_complete"
    static let sql = CompleteStatement(claim: .template, clock: nil).statement.query.sql

    var claim: Claim
    var clock: Double?

    var statement: SQL { PostgresQueue.completeQuery(claim, now: PostgresQueue.now(clock)) }

    func makeBindings() -> PostgresBindings { statement.bindings }

    func decodeRow(_ row: PostgresRow) throws {}
}

/// Completes a claim and claims the run's next job; one row, the ``Handover``.
struct CompleteAndClaimStatement: PostgresPreparedStatement {
    static let name = "arun_complete_and_claim"
    static let sql = CompleteAndClaimStatement(claim: .template, lease: 0, token: 0, clock: nil).statement.query.sql

    var claim: Claim
    var lease: Double
    var token: Int64
    var clock: Double?

    var statement: SQL {
        PostgresQueue.completeAndClaimQuery(claim, lease: lease, token: token, now: PostgresQueue.now(clock))
    }

    func makeBindings() -> PostgresBindings { statement.bindings }

    func decodeRow(_ row: PostgresRow) throws -> Handover {
        let (done, id, run, name, attempt, maxAttempts, estimate, expires, payload) = try row.decode(
            (Int64, Int64?, Int64?, String?, Int?, Int?, Double?, Double?, String?).self)
        var handover = Handover(completed: done == 1, next: nil)
        if let id, let run, let name, let attempt, let maxAttempts, let estimate, let expires, let payload {
            handover.next = Claim(jobID: id, runID: run, name: name, owner: claim.owner, attempt: attempt,
                                  maxAttempts: maxAttempts, estimatedSeconds: estimate, leaseExpiresAt: expires,
                                  payload: payload)
        }
        return handover
    }
}

/// Extends a claim's lease and notes the worker's heartbeat; one row when the claim held.
struct HeartbeatStatement: PostgresPreparedStatement {
    static let name = "arun_heartbeat"
    static let sql = HeartbeatStatement(claim: .template, lease: 0, clock: nil).statement.query.sql

    var claim: Claim
    var lease: Double
    var clock: Double?

    var statement: SQL {
        let now = PostgresQueue.now(clock)
        return """
            WITH beat AS (UPDATE workers SET heartbeat_at = \(now) WHERE id = \(claim.owner))
            UPDATE jobs SET lease_expires_at = \(now) + \(lease) WHERE \(PostgresQueue.held(claim))
            RETURNING 1
            """
    }

    func makeBindings() -> PostgresBindings { statement.bindings }

    func decodeRow(_ row: PostgresRow) throws {}
}

extension Claim {
    /// Any claim: a statement's text is rendered from it once.
    static let template = Claim(jobID: 0, runID: 0, name: "", owner: "", attempt: 0, maxAttempts: 0,
                                estimatedSeconds: 0, leaseExpiresAt: 0, payload: "")
}
