import Foundation
import PostgresNIO
import Synchronization

/// Settings of a ``PostgresQueue``.
public struct PostgresQueueConfiguration: Sendable {
    /// `synchronous_commit` of arun's sessions. `on` (the default): a commit returns once
    /// its WAL is on disk, so a server crash forgets nothing arun was told was written.
    /// A shared server serves a fleet, and at ~3,200 claims per second (BENCHMARKS.md)
    /// the queue is far from what a run waits for. `off` (`arun-bench --synchronous-commit
    /// off`) is ~1.7× faster per claim and a crash may then forget the last fraction of a
    /// second: a job sent back runs again, results keyed by test and attempt are not
    /// doubled. Runs and their jobs are always committed durably.
    public var synchronousCommit: String = "on"
    /// How long a statement waits for a lost server to come back before failing.
    public var reconnectWindow: Double = 120
    /// Tests written per enqueue transaction.
    public var enqueueBatchSize: Int = 5_000
    /// Unix time in seconds instead of the server's clock: only for tests that move time
    /// (the conformance suite). Hosts' clocks differ; production uses the server's.
    public var clock: (@Sendable () -> Double)?

    public init() {}
}

/// The job queue in a PostgreSQL database, shared by workers on many hosts.
///
/// Claims take the longest queued job with `FOR UPDATE SKIP LOCKED` on a partial index,
/// leases run on the server's clock, and every write that carries a ``Claim`` applies
/// only while the job is still running under that owner and attempt. Idle workers wait
/// on `LISTEN arun_jobs` instead of polling.
public final class PostgresQueue: JobQueue {
    public let address: PostgresAddress
    public let configuration: PostgresQueueConfiguration
    let connections: PostgresConnections
    let listener: PostgresListener

    /// The server's clock, in Unix seconds (`now()` is the transaction's start).
    static let serverNow = "EXTRACT(epoch FROM now())::float8"

    /// The time every lease and timestamp is computed from, as SQL: the server's clock,
    /// or a test's clock as a literal.
    var now: String { configuration.clock.map { "(\($0())::float8)" } ?? Self.serverNow }

    /// The test clock's reading, or nil for the server's clock: the prepared statements
    /// bind it (their text is fixed), see ``now(_:)``.
    var clockReading: Double? { configuration.clock?() }

    /// The time as a fragment for prepared statements: the bound test clock, or the
    /// server's clock when it is NULL.
    static func now(_ clock: Double?) -> SQL { "COALESCE(\(clock)::float8, \(unescaped: serverNow))" }

    /// Connects, checks the address and migrates under an advisory lock. Errors are
    /// ``QueueError``s: unreachable server, wrong password, missing database, newer schema.
    public init(address: PostgresAddress, configuration: PostgresQueueConfiguration = .init()) async throws {
        self.address = address
        self.configuration = configuration
        guard ["on", "off", "local", "remote_write", "remote_apply"].contains(configuration.synchronousCommit) else {
            throw QueueError.database("synchronous_commit must be on, off, local, remote_write or remote_apply")
        }
        connections = try PostgresConnections(
            address: address, reconnectWindow: configuration.reconnectWindow,
            sessionSettings: [
                "SET synchronous_commit = \(configuration.synchronousCommit)",
                "SET application_name = 'arun'",
                // A client that vanished mid-transaction (network cut) must not hold its
                // row locks until TCP notices.
                "SET idle_in_transaction_session_timeout = '60s'",
            ])
        listener = PostgresListener(connections: connections)
        try await PostgresMigrations.apply(connections)
    }

    deinit { listener.stop() }

    /// Applied migrations, as on SQLite.
    public func schemaVersion() async throws -> Int {
        try await connections.perform { connection, _ in
            var count = 0
            for try await value in try await connection.query(
                "SELECT count(*) FROM arun_schema_migrations", logger: PostgresConnections.logger).decode(Int.self) {
                count = value
            }
            return count
        }
    }

    /// The `synchronous_commit` the sessions run with, as the server reports it.
    public func synchronousCommit() async throws -> String {
        try await connections.perform { connection, _ in
            var value = ""
            for try await setting in try await connection.query(
                "SHOW synchronous_commit", logger: PostgresConnections.logger).decode(String.self) {
                value = setting
            }
            return value
        }
    }

    // MARK: - Statements

    /// One statement, retried on a new connection if the connection breaks; the caller
    /// makes sure a repeat is harmless.
    @discardableResult
    func statement<T: Sendable>(_ body: (PostgresConnection, _ isRepeat: Bool) async throws -> T) async throws -> T {
        try await connections.perform(body)
    }

    /// A transaction. With `verifyCommit`, a connection that broke while COMMIT was in
    /// flight is resolved with `txid_status` on the next connection: a transaction that
    /// did commit is not run twice (enqueue, create run).
    func transaction<T: Sendable>(verifyCommit: Bool = false, durable: Bool = false,
                                  _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let pending = Mutex<(txid: Int64, value: T)?>(nil)
        let logger = PostgresConnections.logger
        return try await connections.perform { connection, isRepeat in
            if isRepeat, let (txid, value) = pending.withLock({ $0 }) {
                var status: String?
                for try await row in try await connection.query("SELECT txid_status(\(txid))", logger: logger)
                    .decode(String?.self) {
                    status = row
                }
                if status == "committed" { return value }
                if status == "in progress" { throw PostgresConnections.RetryLater() }
                pending.withLock { $0 = nil }
            }
            try await connection.query("BEGIN", logger: logger)
            do {
                if durable { try await connection.query("SET LOCAL synchronous_commit = on", logger: logger) }
                var txid: Int64 = 0
                if verifyCommit {
                    for try await value in try await connection.query("SELECT txid_current()", logger: logger)
                        .decode(Int64.self) {
                        txid = value
                    }
                }
                let value = try await body(connection)
                if verifyCommit { pending.withLock { $0 = (txid, value) } }
                try await connection.query("COMMIT", logger: logger)
                pending.withLock { $0 = nil }
                return value
            } catch {
                if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
                throw error
            }
        }
    }

    /// Collects every row of a query, decoded.
    static func rows<Row>(_ connection: PostgresConnection, _ sql: SQL,
                          as type: Row.Type) async throws -> [Row] where Row: PostgresDecodable & Sendable {
        try await connection.query(sql.query, logger: PostgresConnections.logger).decode(Row.self)
            .reduce(into: []) { $0.append($1) }
    }

    /// Runs a query and returns how many rows it returned: writes that must report
    /// what they touched say `RETURNING 1` (the async API carries no affected count).
    @discardableResult
    static func execute(_ connection: PostgresConnection, _ sql: SQL) async throws -> Int {
        var count = 0
        for try await _ in try await connection.query(sql.query, logger: PostgresConnections.logger) { count += 1 }
        return count
    }
}
