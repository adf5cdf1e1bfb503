import Foundation
internal import GRDB

/// Settings of a ``SQLiteQueue``, with defaults that suit one host.
public struct SQLiteQueueConfiguration: Sendable {
    /// How long one SQLite statement waits for another process's lock before the
    /// queue's own loop takes over (retrying, reporting the wait, up to ``lockTimeout``).
    public var busyTimeout: Double = 2
    /// How long a write waits, in all, for a lock another program holds before the
    /// queue gives up with ``QueueError/busy(path:seconds:)`` (`--lock-timeout`).
    public var lockTimeout: Double = 300
    /// Told when a write has waited for the lock past ``busyTimeout``, and again when it
    /// got the lock, so the console can say why progress froze.
    public var onLockWait: (@Sendable (LockWait) -> Void)?
    /// Fault injection for tests without a small filesystem: `PRAGMA max_page_count` on
    /// every connection, so the database "fills the disk" at this many pages.
    public var maxPageCount: Int?
    /// `PRAGMA quick_check` on opening, read-only, before anything is written: for a new
    /// run or a resume, so damage stops arun before it adds to the file.
    public var verifyIntegrity = false
    /// Tests written per enqueue transaction.
    public var enqueueBatchSize: Int = 5_000
    /// `NORMAL` is safe in WAL mode (a power cut may lose the last commits, never
    /// corrupt) and is about 6× faster than `FULL` for claim+complete here.
    public var durable: Bool = false
    /// Unix time in seconds; replaceable so tests can move time.
    public var clock: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    public init() {}
}

/// The job queue in one SQLite file, shared by every worker process on a host.
///
/// WAL journal, a jittered busy handler, and every write retried on BUSY until
/// the busy timeout, so contention slows workers down but never fails them.
public final class SQLiteQueue: JobQueue {
    /// Absolute path of the database file.
    public let path: String
    public let configuration: SQLiteQueueConfiguration
    let pool: DatabasePool
    /// Claims and completions, off GRDB (see ``ClaimConnection``).
    let claims: ClaimConnection

    /// Opens (creating and migrating when needed) the database at `path`.
    public init(path: String, configuration: SQLiteQueueConfiguration = .init()) throws {
        self.path = path
        self.configuration = configuration
        try Self.checkLocation(path)
        (pool, claims) = try Self.waitingForLock(path: path, configuration: configuration) {
            try Self.open(path: path, configuration: configuration)
        }
    }

    /// The pool (created and migrated under the migration lock) and the claim connection.
    private static func open(path: String, configuration: SQLiteQueueConfiguration) throws
        -> (DatabasePool, ClaimConnection) {
        var config = Configuration()
        // SQLite's own handler sleeps 1, 2, 5… ms. Measured against short jittered sleeps
        // and yields, it gives more claims per second with 2–4 processes: while one
        // process sleeps the other commits in a row with a warm page cache.
        config.busyMode = .timeout(configuration.busyTimeout)
        config.journalMode = .wal
        let pragmas = Self.pragmas(durable: configuration.durable, maxPageCount: configuration.maxPageCount)
        config.prepareDatabase { db in
            for pragma in pragmas { try db.execute(sql: pragma) }
        }
        let pool: DatabasePool
        do {
            // One lock from the file check to the last migration: an empty file seen under it
            // is no database another arun is creating.
            let lock = try FileLock(path: path + ".lock")
            defer { lock.unlock() }
            try DatabaseFile.check(path, verify: configuration.verifyIntegrity, underLock: true)
            pool = try DatabasePool(path: path, configuration: config)
            try Migrations.apply(to: pool, path: path, locked: true)
        }
        return (pool, try ClaimConnection(path: path, busyTimeout: configuration.busyTimeout, pragmas: pragmas))
    }

    /// Runs `body` again while SQLite reports the database busy, reporting the wait, until
    /// the lock timeout. Synchronous: opening happens before any task runs.
    private static func waitingForLock<T>(path: String, configuration: SQLiteQueueConfiguration,
                                          _ body: () throws -> T) throws -> T {
        let started = configuration.clock()
        var reported = false
        while true {
            do {
                let value = try body()
                if reported { configuration.onLockWait?(LockWait(path: path, since: started,
                                                                 waited: configuration.clock() - started,
                                                                 limit: configuration.lockTimeout, released: true)) }
                return value
            } catch let error as DatabaseError where isBusy(error) {
                let waited = configuration.clock() - started
                if waited >= configuration.lockTimeout { throw QueueError.busy(path: path, seconds: waited) }
                reported = true
                configuration.onLockWait?(LockWait(path: path, since: started, waited: waited,
                                                   limit: configuration.lockTimeout, released: false))
                Thread.sleep(forTimeInterval: 0.2)
            } catch let error as DatabaseError {
                throw translate(error, path: path)
            }
        }
    }

    /// Opens the database at the location the user chose (`--db`, `ARUN_DB`, default).
    public convenience init(explicitPath: String?, configuration: SQLiteQueueConfiguration = .init()) throws {
        try self.init(path: DatabaseLocation.resolve(explicit: explicitPath), configuration: configuration)
    }

    var now: Double { configuration.clock() }

    /// Set on every connection, GRDB's and the claim connection.
    static func pragmas(durable: Bool, maxPageCount: Int? = nil) -> [String] {
        (maxPageCount.map { ["PRAGMA max_page_count = \($0)"] } ?? []) + [
            // `NORMAL` is safe in WAL mode; see ``SQLiteQueueConfiguration/durable``.
            durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
            // Pages come from the shared mapping instead of a pread each time another
            // process's commit invalidates this connection's cache.
            "PRAGMA mmap_size = 268435456",
            // Checkpoint (and fsync) every ~40 MB of WAL instead of every 4 MB: a claim writes
            // a few pages, and at the default a checkpoint came every ~300 claims.
            "PRAGMA wal_autocheckpoint = 10000",
            "PRAGMA journal_size_limit = 67108864",
            // 16 MB of page cache instead of 2 MB: at 200k tests the indexes that registering
            // and recording update (tests by node id, job_tests, results) outgrow 2 MB, and
            // each insert then re-read and spilled pages (cost per test grew with the suite).
            "PRAGMA cache_size = -16384",
        ]
    }

    /// Copies the WAL into the database and empties it once a run has ended. SQLite does
    /// this itself when the last connection closes, but a file shared with other runs,
    /// `--mp` workers still stopping or a report being read is not closed by everyone,
    /// and its WAL kept up to `journal_size_limit` (64 MB) on disk. During a run the WAL
    /// stays bounded by `wal_autocheckpoint` and `journal_size_limit`. Best effort: a
    /// reader in another process may keep it busy for SQLite's busy timeout, and then a
    /// later checkpoint does the work.
    func truncateJournal() {
        _ = try? pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }

    /// The schema version: how many migrations are applied.
    public func schemaVersion() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 }
    }

    // MARK: - Writing with retries

    /// Runs `updates` in an IMMEDIATE transaction, retrying BUSY with jitter until the busy timeout.
    ///
    /// The transaction runs synchronously on the calling thread: GRDB's async `write`
    /// hops to its own queue and back, and those two thread wake-ups cost more than
    /// the claim itself (measured: 5× fewer claims per second on a loaded machine).
    func write<T: Sendable>(_ updates: (Database) throws -> T) async throws -> T {
        try await retryingBusy { try pool.write(updates) }
    }

    /// Like ``write(_:)``, on the claim connection.
    func claimWrite<T: Sendable>(_ updates: (ClaimConnection) throws -> T) async throws -> T {
        try await retryingBusy { try claims.transaction(updates) }
    }

    /// Retries a transaction that met BUSY: at once with a short jitter while other
    /// workers take turns, and for as long as ``SQLiteQueueConfiguration/lockTimeout``
    /// (or ``LockPatience/seconds``) allows when a lock stays held, telling
    /// ``SQLiteQueueConfiguration/onLockWait`` once SQLite's own busy wait has run out.
    private func retryingBusy<T>(_ transaction: () throws -> T) async throws -> T {
        let started = now
        let limit = LockPatience.seconds ?? configuration.lockTimeout
        var tries = 0
        var reported = false
        while true {
            do {
                let value = try transaction()
                if reported {
                    configuration.onLockWait?(LockWait(path: path, since: started, waited: now - started,
                                                       limit: limit, released: true))
                }
                return value
            } catch let error as DatabaseError where Self.isBusy(error) {
                tries += 1
                let waited = now - started
                if waited >= limit { throw QueueError.busy(path: path, seconds: waited) }
                if waited >= configuration.busyTimeout {
                    reported = true
                    configuration.onLockWait?(LockWait(path: path, since: started, waited: waited, limit: limit,
                                                       released: false))
                }
                try await Task.sleep(nanoseconds: Self.jitteredDelay(tries: tries))
            } catch let error as DatabaseError {
                throw Self.translate(error, path: path)
            }
        }
    }

    /// Runs `reads` on a reader connection (WAL: never blocked by writers).
    func read<T: Sendable>(_ reads: (Database) throws -> T) async throws -> T {
        do {
            return try pool.read(reads)
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    /// Synchronous read for command-line queries.
    func readSync<T>(_ reads: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(reads)
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    static func isBusy(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    /// Between retries of a write that still met BUSY (SQLite returns it at once, without
    /// waiting, when a read transaction must be upgraded): 50 µs doubling to 2 ms, ±50 %,
    /// random so that waiting processes do not wake in lockstep.
    static func jitteredDelay(tries: Int) -> UInt64 {
        let base = min(2_000_000.0, 50_000.0 * pow(2, Double(min(tries, 6))))
        return UInt64(base * Double.random(in: 0.5...1.5))
    }

    // MARK: - Errors

    static func checkLocation(_ path: String) throws {
        let manager = FileManager.default
        let directory = (path as NSString).deletingLastPathComponent
        if manager.fileExists(atPath: path) {
            try DatabaseFile.check(path, verify: false, underLock: false)
        } else if !directory.isEmpty {
            do {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw QueueError.unwritable(path: path, reason: "cannot create folder \(directory)")
            }
        }
        if !directory.isEmpty && !manager.isWritableFile(atPath: directory) {
            throw QueueError.unwritable(path: path, reason: "folder \(directory) is not writable")
        }
    }

    static func translate(_ error: DatabaseError, path: String) -> QueueError {
        switch error.resultCode {
        case .SQLITE_CORRUPT: return .damaged(path: path, problem: error.message ?? "SQLITE_CORRUPT")
        case .SQLITE_NOTADB:
            let start = FileManager.default.contents(atPath: path)?.prefix(16) ?? Data()
            return start.starts(with: DatabaseFile.header)
                ? .damaged(path: path, problem: error.message ?? "SQLITE_NOTADB") : .notADatabase(path: path)
        case .SQLITE_FULL: return .diskFull(path: path)
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_IOERR:
            if (error.message ?? "").contains("disk is full") {
                return .diskFull(path: path)
            }
            return .unwritable(path: path, reason: error.message ?? "\(error.resultCode)")
        // A read or a single statement gave up after SQLite's own busy wait.
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .busy(path: path, seconds: SQLiteQueueConfiguration().busyTimeout)
        default: return .database(error.description)
        }
    }


}
