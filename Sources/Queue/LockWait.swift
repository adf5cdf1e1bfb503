import Foundation

/// A write waiting for a lock another program holds: what the console reports.
public struct LockWait: Sendable, Equatable {
    /// The database file.
    public var path: String
    /// Unix seconds when the write began to wait.
    public var since: Double
    /// Seconds waited so far (in all, when `released`).
    public var waited: Double
    /// Seconds the write will wait before giving up (`--lock-timeout`).
    public var limit: Double
    /// True once the lock was obtained after the wait.
    public var released: Bool

    public init(path: String, since: Double, waited: Double, limit: Double, released: Bool) {
        self.path = path
        self.since = since
        self.waited = waited
        self.limit = limit
        self.released = released
    }
}

/// How long the writes of the current task wait for a lock, when not the queue's
/// ``SQLiteQueueConfiguration/lockTimeout``: after the lock timeout has already stopped
/// a run, its closing writes (status, released jobs) try briefly and leave the rest to
/// the next arun that opens the run.
public enum LockPatience {
    @TaskLocal public static var seconds: Double?
}
