import Foundation
internal import GRDB

/// The SQLite schema: `migrations/sqlite/NNNN_name.sql`, embedded at build time, applied
/// in name order. Each migration also sets `PRAGMA user_version` to its number so plain
/// `sqlite3` users can see the schema version.
enum Migrations {
    /// (identifier, SQL) in the order they apply.
    static let all = embedded(backend: "sqlite")

    /// The migrations of one backend's folder (`sqlite`, `postgres`), in name order;
    /// identifiers are file names without `.sql`.
    static func embedded(backend: String) -> [(id: String, sql: String)] {
        EmbeddedMigrations.files
            .filter { $0.key.hasPrefix(backend + "/") }
            .sorted { $0.key < $1.key }
            .map { (id: String($0.key.dropFirst(backend.count + 1).dropLast(".sql".count)), sql: $0.value) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (index, migration) in all.enumerated() {
            migrator.registerMigration(migration.id) { db in
                try db.execute(sql: migration.sql)
                try db.execute(sql: "PRAGMA user_version = \(index + 1)")
            }
        }
        return migrator
    }

    /// Migrates under an exclusive lock on a sidecar file: several processes opening
    /// one fresh database at once would otherwise race on `grdb_migrations`.
    /// `locked`: the caller already holds the lock.
    static func apply(to writer: some DatabaseWriter, path: String, locked: Bool = false) throws {
        let lock = locked ? nil : try FileLock(path: path + ".lock")
        defer { lock?.unlock() }
        let migrator = migrator
        let applied = try writer.read { db in try migrator.appliedIdentifiers(db) }
        let known = Set(all.map(\.id))
        let unknown = applied.subtracting(known)
        if !unknown.isEmpty {
            throw QueueError.newerSchema(path: path, found: applied.sorted(), known: all.count)
        }
        if applied.count < known.count {
            try migrator.migrate(writer)
        }
    }
}

/// An exclusive advisory lock (`flock`) held until `unlock()`.
final class FileLock {
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            throw QueueError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        while flock(descriptor, LOCK_EX) != 0 {
            if errno != EINTR {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw QueueError.unwritable(path: path, reason: reason)
            }
        }
    }

    func unlock() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
