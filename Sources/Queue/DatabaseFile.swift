import Foundation
internal import GRDB

/// What an existing file at the database path is, told apart before arun writes to it:
/// opening a file read-write (WAL mode, migrations) would change another application's
/// database, so everything here reads only.
enum DatabaseFile {
    static let header = Data("SQLite format 3\u{0}".utf8)

    /// Throws the ``QueueError`` that names the file when it is not an arun database
    /// (or a fresh SQLite file arun may fill). A missing file is fine: arun creates it.
    /// `underLock`: the migration lock is held, so an empty file is no database being born
    /// (its creator writes the first page before letting the lock go).
    static func check(_ path: String, verify: Bool, underLock: Bool) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue { throw QueueError.notADatabase(path: path) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw QueueError.unwritable(path: path, reason: "cannot read it")
        }
        let start = (try? handle.read(upToCount: 100)) ?? Data()
        try? handle.close()
        if start.isEmpty {
            // A fresh database another arun is creating this instant is empty until its creator,
            // holding the lock, has written the first page.
            if !underLock || (attributes(path + "-wal")?[.size] as? Int ?? 0) > 0 { return }
            throw QueueError.emptyFile(path: path)
        }
        guard start.starts(with: header) else {
            if start.allSatisfy({ $0 == 0 }), let size = attributes(path)?[.size] as? Int, size % 512 == 0,
               manager.fileExists(atPath: path + "-wal") || manager.fileExists(atPath: path + ".lock") {
                throw QueueError.damaged(path: path, problem: "its first page is zeroed")
            }
            throw QueueError.notADatabase(path: path)
        }
        // Another arun may be migrating it right now: its tables are judged under the lock only.
        if underLock { try inspectSchema(path, verify: verify) }
    }

    /// Reads the table names on a read-only connection: damage shows as SQLITE_CORRUPT
    /// or SQLITE_NOTADB (or in `quick_check` when `verify`), another application as tables
    /// without arun's migrations.
    static func inspectSchema(_ path: String, verify: Bool) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        do {
            let connection = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? connection.close() }
            let (tables, arun) = try connection.read { db -> ([String], Bool) in
                let tables = try String.fetchAll(db, sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name
                    """)
                guard tables.contains("grdb_migrations") else { return (tables, false) }
                let first = Migrations.all.first?.id ?? ""
                let applied = try Bool.fetchOne(db, sql: "SELECT 1 FROM grdb_migrations WHERE identifier = ?",
                                                arguments: [first]) ?? false
                return (tables, applied)
            }
            if !tables.isEmpty && !arun { throw QueueError.foreign(path: path, tables: tables) }
            if verify, let problem = try connection.read({ try quickCheck($0) }) {
                throw QueueError.damaged(path: path, problem: "quick_check: \(problem)")
            }
        } catch let error as DatabaseError {
            switch error.resultCode {
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                throw QueueError.damaged(path: path, problem: error.message ?? "\(error.resultCode)")
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return  // another process writes it: the locked open waits for it later
            default:
                throw SQLiteQueue.translate(error, path: path)
            }
        }
    }

    /// `PRAGMA quick_check`: the first problem it finds, or nil when the file is sound.
    static func quickCheck(_ db: Database) throws -> String? {
        let lines = try String.fetchAll(db, sql: "PRAGMA quick_check(5)")
        return lines == ["ok"] ? nil : lines.joined(separator: "; ")
    }

    private static func attributes(_ path: String) -> [FileAttributeKey: Any]? {
        try? FileManager.default.attributesOfItem(atPath: path)
    }
}
