import Foundation

/// Everything that can go wrong opening or using the queue, each with a
/// message that names the problem and the fix, and the exit code arun reports.
public enum QueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file exists but is not a SQLite database.
    case notADatabase(path: String)
    /// The database was migrated by a newer arun than this one.
    case newerSchema(path: String, found: [String], known: Int)
    /// The database file or its folder cannot be created or written.
    case unwritable(path: String, reason: String)
    /// The database stayed locked longer than the busy timeout.
    case busy(path: String, seconds: Double)
    /// A run id that the database does not hold.
    case unknownRun(Int64)
    /// No database file where a read-only command looked.
    case missingDatabase(path: String)
    /// The database holds no runs at all.
    case noRuns(path: String)
    /// Any other SQLite failure; these are bugs or a damaged file.
    case database(String)

    public var description: String {
        switch self {
        case let .notADatabase(path):
            "\(path) is not an arun database (not a SQLite file): pass another --db, or move the file away"
        case let .newerSchema(path, found, known):
            "\(path) was written by a newer arun (schema \(found.count) > \(known): \(found.suffix(1).joined())): "
                + "upgrade arun, or pass another --db"
        case let .unwritable(path, reason):
            "cannot write the database \(path) (\(reason)): choose a writable place with --db PATH or ARUN_DB"
        case let .busy(path, seconds):
            "\(path) stayed locked for \(Int(seconds)) s: another program holds a write transaction; stop it or retry"
        case let .unknownRun(id):
            "no run \(id) in this database: list runs with `arun runs`"
        case let .missingDatabase(path):
            "no arun database at \(path): pass the right --db (or ARUN_DB), or create it with `arun run` or `arun enqueue`"
        case let .noRuns(path):
            "\(path) holds no runs yet: start one with `arun enqueue` or `arun run`"
        case let .database(message):
            "database error: \(message)"
        }
    }

    /// The pytest-style exit code: 4 for what the user can fix by choosing
    /// another database, 3 for internal failures.
    public var exitCode: Int32 {
        switch self {
        case .notADatabase, .newerSchema, .unwritable, .unknownRun, .noRuns, .missingDatabase: 4
        case .busy, .database: 3
        }
    }
}
