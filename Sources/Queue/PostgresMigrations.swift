import Foundation
import PostgresNIO

/// The PostgreSQL schema: `migrations/postgres/NNNN_name.sql`, embedded at build time,
/// applied in name order, each in its own transaction, and recorded in
/// `arun_schema_migrations`.
///
/// Every process that opens the database takes one session advisory lock before it
/// looks: ten processes opening a fresh database at once queue behind the first,
/// which migrates, and find nothing left to do.
enum PostgresMigrations {
    static let all = Migrations.embedded(backend: "postgres")
    /// `'arun'` in ASCII: the advisory lock key for migrations.
    static let lockKey: Int64 = 0x6172_756E

    static func apply(_ connections: PostgresConnections) async throws {
        try await connections.perform { connection, _ in
            let logger = PostgresConnections.logger
            try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
            do {
                try await migrate(connection, address: connections.address)
                try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                throw error
            }
        }
    }

    private static func migrate(_ connection: PostgresConnection, address: PostgresAddress) async throws {
        let logger = PostgresConnections.logger
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS arun_schema_migrations (
                id text PRIMARY KEY, applied_at double precision NOT NULL)
            """, logger: logger)
        var applied: Set<String> = []
        for try await id in try await connection.query("SELECT id FROM arun_schema_migrations", logger: logger)
            .decode(String.self) {
            applied.insert(id)
        }
        let known = Set(all.map(\.id))
        if !applied.subtracting(known).isEmpty {
            throw QueueError.newerSchema(path: address.description, found: applied.sorted(), known: all.count)
        }
        for migration in all where !applied.contains(migration.id) {
            try await connection.query("BEGIN", logger: logger)
            do {
                for statement in statements(in: migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("""
                    INSERT INTO arun_schema_migrations (id, applied_at) VALUES (\(migration.id), extract(epoch FROM now()))
                    """, logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Splits a file into statements at `;` outside quotes, dollar quotes and comments:
    /// PostgresNIO speaks the extended protocol, which takes one statement at a time.
    static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        let characters = Array(sql)
        var index = 0
        var dollarTag: String?
        var inQuote = false
        while index < characters.count {
            let character = characters[index]
            if let tag = dollarTag {
                if character == "$", String(characters[index..<min(characters.count, index + tag.count)]) == tag {
                    current += tag
                    index += tag.count
                    dollarTag = nil
                    continue
                }
            } else if inQuote {
                if character == "'" { inQuote = false }
            } else if character == "'" {
                inQuote = true
            } else if character == "-", index + 1 < characters.count, characters[index + 1] == "-" {
                while index < characters.count, characters[index] != "\n" { index += 1 }
                continue
            } else if character == "$" {
                var end = index + 1
                while end < characters.count, characters[end].isLetter || characters[end] == "_" { end += 1 }
                if end < characters.count, characters[end] == "$" {
                    let tag = String(characters[index...end])
                    dollarTag = tag
                    current += tag
                    index = end + 1
                    continue
                }
            } else if character == ";" {
                let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { statements.append(trimmed) }
                current = ""
                index += 1
                continue
            }
            current.append(character)
            index += 1
        }
        let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { statements.append(trimmed) }
        return statements
    }
}
