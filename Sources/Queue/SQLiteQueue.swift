import Foundation
internal import GRDB

/// Settings of a ``SQLiteQueue``, with defaults that suit one host.
public struct SQLiteQueueConfiguration: Sendable {
    /// How long a write waits for another process's lock before giving up.
    public var busyTimeout: Double = 30
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
        var config = Configuration()
        // SQLite's own handler sleeps 1, 2, 5… ms. Measured against short jittered sleeps
        // and yields, it gives more claims per second with 2–4 processes: while one
        // process sleeps the other commits in a row with a warm page cache.
        config.busyMode = .timeout(configuration.busyTimeout)
        config.journalMode = .wal
        let pragmas = Self.pragmas(durable: configuration.durable)
        config.prepareDatabase { db in
            for pragma in pragmas { try db.execute(sql: pragma) }
        }
        do {
            let lock = try FileLock(path: path + ".lock")
            defer { lock.unlock() }
            pool = try DatabasePool(path: path, configuration: config)
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
        do {
            try Migrations.apply(to: pool, path: path)
            claims = try ClaimConnection(path: path, busyTimeout: configuration.busyTimeout, pragmas: pragmas)
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    /// Opens the database at the location the user chose (`--db`, `ARUN_DB`, default).
    public convenience init(explicitPath: String?, configuration: SQLiteQueueConfiguration = .init()) throws {
        try self.init(path: DatabaseLocation.resolve(explicit: explicitPath), configuration: configuration)
    }

    var now: Double { configuration.clock() }

    /// Set on every connection, GRDB's and the claim connection.
    static func pragmas(durable: Bool) -> [String] {
        [
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

    private func retryingBusy<T>(_ transaction: () throws -> T) async throws -> T {
        let deadline = now + configuration.busyTimeout
        var tries = 0
        while true {
            do {
                return try transaction()
            } catch let error as DatabaseError where Self.isBusy(error) {
                tries += 1
                if now >= deadline { throw QueueError.busy(path: path, seconds: configuration.busyTimeout) }
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
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw QueueError.notADatabase(path: path) }
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw QueueError.unwritable(path: path, reason: "cannot read it")
            }
            defer { try? handle.close() }
            let header = (try? handle.read(upToCount: 16)) ?? Data()
            if !header.isEmpty && header != Data("SQLite format 3\u{0}".utf8) {
                throw QueueError.notADatabase(path: path)
            }
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
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: .notADatabase(path: path)
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_FULL, .SQLITE_IOERR:
            .unwritable(path: path, reason: error.message ?? "\(error.resultCode)")
        case .SQLITE_BUSY, .SQLITE_LOCKED: .busy(path: path, seconds: 0)
        default: .database(error.description)
        }
    }
}
