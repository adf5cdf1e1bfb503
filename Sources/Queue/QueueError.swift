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
    /// A `postgresql://` URL that does not parse (shown without its password).
    case badAddress(String, reason: String)
    /// No PostgreSQL server answers at the address (refused, unknown host, timeout).
    case serverUnreachable(PostgresAddress, reason: String)
    /// The server refused the user or password.
    case authenticationFailed(PostgresAddress)
    /// The server has no such database.
    case missingPostgresDatabase(PostgresAddress)
    /// The connection broke mid-run and the server did not come back in time.
    case connectionLost(PostgresAddress, seconds: Double)

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
        case let .badAddress(text, reason):
            "\(text) is not a usable database URL (\(reason)): write postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
        case let .serverUnreachable(address, reason):
            "no PostgreSQL server answers at \(address.host):\(address.port) (\(reason)): start it, or fix host and port in --db/ARUN_DB"
        case let .authenticationFailed(address):
            "PostgreSQL refused user \(address.user) at \(address): fix the user or password in --db/ARUN_DB"
        case let .missingPostgresDatabase(address):
            "PostgreSQL at \(address.host):\(address.port) has no database \(address.database): create it (createdb \(address.database)) or fix --db/ARUN_DB"
        case let .connectionLost(address, seconds):
            "lost the connection to \(address) and it did not come back within \(Int(seconds)) s: "
                + "check the server, then run `arun work` again (unfinished jobs are taken over after their lease)"
        }
    }

    /// The pytest-style exit code: 4 for what the user can fix by choosing
    /// another database (or starting its server), 3 for internal failures and
    /// a server lost mid-run.
    public var exitCode: Int32 {
        switch self {
        case .notADatabase, .newerSchema, .unwritable, .unknownRun, .noRuns, .missingDatabase: 4
        case .badAddress, .serverUnreachable, .authenticationFailed, .missingPostgresDatabase: 4
        case .busy, .database, .connectionLost: 3
        }
    }
}
