import Foundation
import Queue
import Reports

/// The database a command opened: a SQLite file or a PostgreSQL database. Commands
/// that need only the shared queue protocol (`enqueue`, `work`) take either.
enum OpenedQueue {
    case sqlite(SQLiteQueue)
    case postgres(PostgresQueue)

    var queue: any JobQueue {
        switch self {
        case let .sqlite(queue): queue
        case let .postgres(queue): queue
        }
    }

    /// What messages call the database: its path, or its URL without the password.
    var name: String {
        switch self {
        case let .sqlite(queue): queue.path
        case let .postgres(queue): queue.address.description
        }
    }

    func latestRun() async throws -> Run? {
        switch self {
        case let .sqlite(queue): try queue.latestRun()
        case let .postgres(queue): try await queue.latestRun()
        }
    }

    /// Durations the planner sizes jobs by: imported ones, overridden by recent runs.
    func plannerHistory() async throws -> [String: Double] {
        switch self {
        case let .sqlite(queue):
            return try plannerDurations(queue: queue)
        case let .postgres(queue):
            var durations = try await queue.importedDurations()
            for (nodeid, seconds) in try await queue.recentDurations() { durations[nodeid] = seconds }
            return durations
        }
    }
}

extension DatabaseOptions {
    /// `--db`/`ARUN_DB` as a backend: a file path or a postgresql:// URL.
    func address() throws -> DatabaseAddress { try DatabaseAddress.resolve(explicit: db) }

    /// Opens either backend.
    func openAny() async throws -> OpenedQueue {
        switch try address() {
        case let .sqlite(path): .sqlite(try SQLiteQueue(path: path))
        case let .postgres(address): .postgres(try await PostgresQueue(address: address))
        }
    }

    /// A SQLite-only command given a PostgreSQL URL says so in one line.
    func requireFile(for command: String) throws {
        if case .postgres = try address() {
            throw UsageError("`arun \(command)` reads SQLite files only so far: pass --db PATH "
                             + "(enqueue and work take postgresql:// URLs)")
        }
    }
}
