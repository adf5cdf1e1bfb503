import Foundation

/// Everything that can go wrong opening or using the queue, each with a
/// message that names the problem and the fix, and the exit code arun reports.
public enum QueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file exists but is not a SQLite database (or is a folder).
    case notADatabase(path: String)
    /// The file exists and is empty: not a database arun made.
    case emptyFile(path: String)
    /// A SQLite file whose pages are damaged (`SQLITE_CORRUPT`, or `PRAGMA quick_check` found problems).
    case damaged(path: String, problem: String)
    /// A SQLite database of another application: tables, but no arun schema.
    case foreign(path: String, tables: [String])
    /// The disk holding the database is full.
    case diskFull(path: String)
    /// The database was migrated by a newer arun than this one.
    case newerSchema(path: String, found: [String], known: Int)
    /// The database file or its folder cannot be created or written.
    case unwritable(path: String, reason: String)
    /// Another program held the database's write lock longer than `--lock-timeout` allows.
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
        case let .emptyFile(path):
            "\(path) is an empty file, not an arun database: delete it (arun then creates the database) or pass another --db"
        case let .damaged(path, problem):
            "\(path) is a damaged SQLite database (\(problem.prefix(200))): restore it from a copy, "
                + "or move it away (`sqlite3 \(path) .recover` may save its data) and pass another --db"
        case let .foreign(path, tables):
            "\(path) is another application's SQLite database (tables \(tables.prefix(5).joined(separator: ", "))"
                + "\(tables.count > 5 ? ", …" : ""); no arun schema): arun will not write into it; pass another --db"
        case let .diskFull(path):
            "the disk holding \(path) is full: free some space, then finish the run with `arun run --resume`"
        case let .newerSchema(path, found, known):
            "\(path) was written by a newer arun (schema \(found.count) > \(known): \(found.suffix(1).joined())): "
                + "upgrade arun, or pass another --db"
        case let .unwritable(path, reason):
            "cannot write the database \(path) (\(reason)): choose a writable place with --db PATH or ARUN_DB"
        case let .busy(path, seconds):
            "\(path) stayed locked for \(Int(seconds.rounded())) s (--lock-timeout): another program holds a write "
                + "transaction; end it (`fuser \(path)` shows who), then `arun run --resume`, or raise --lock-timeout"
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
    /// another database (or starting its server), 2 for a stop that can be resumed, 3 for
    /// internal failures and a server lost mid-run.
    public var exitCode: Int32 {
        switch self {
        case .notADatabase, .emptyFile, .damaged, .foreign, .newerSchema, .unwritable, .unknownRun, .noRuns, .missingDatabase: 4
        case .badAddress, .serverUnreachable, .authenticationFailed, .missingPostgresDatabase: 4
        case .busy, .diskFull: 2
        case .database, .connectionLost: 3
        }
    }

    /// A fault of the database's file, disk or server that another try cannot cure: workers
    /// stop rather than being replaced.
    public var isStorageFault: Bool {
        switch self {
        case .database, .unknownRun, .noRuns, .missingDatabase: false
        default: true
        }
    }
}
