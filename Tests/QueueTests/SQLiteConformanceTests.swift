import Foundation
import Queue
import QueueConformance
import TestSupport
import Testing

/// The SQLite backend against the shared conformance checks, each on a fresh file.
@Suite struct SQLiteConformanceTests {
    @Test(arguments: QueueConformance.all.map(\.0))
    func conformance(_ name: String) async throws {
        let folder = try TemporaryFolder()
        let check = try #require(QueueConformance.all.first { $0.0 == name }?.1)
        try await check { clock in
            var configuration = SQLiteQueueConfiguration()
            configuration.clock = { clock.now }
            return try SQLiteQueue(path: folder.file("\(UUID().uuidString).db"), configuration: configuration)
        }
    }
}
