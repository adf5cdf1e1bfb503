import Foundation
import Queue

/// Opens the queue a benchmark names: a SQLite path, or a postgresql:// URL (also
/// taken from `ARUN_DB`, so child processes get the password without a command line).
enum BenchQueue {
    static func open(_ db: String?, synchronousCommit: String = PostgresQueueConfiguration().synchronousCommit) async throws -> any JobQueue {
        let chosen = db ?? ProcessInfo.processInfo.environment["ARUN_DB"] ?? ""
        if PostgresAddress.isURL(chosen) {
            var configuration = PostgresQueueConfiguration()
            configuration.synchronousCommit = synchronousCommit
            return try await PostgresQueue(address: PostgresAddress(url: chosen), configuration: configuration)
        }
        return try SQLiteQueue(path: chosen)
    }
}
