import Foundation
import GRDB
@testable import Queue
import TestSupport
import Testing

@Suite struct SQLiteQueueTests {
    @Test func claimWalksTheIndexWithoutSorting() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.db"))
        let details = try queue.readSync { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteQueue.claimSQL,
                             arguments: ["w", 1, 0, 1]).map { $0["detail"] as String }
        }
        #expect(details.contains { $0.contains("jobs_claimable") }, "plan: \(details)")
        #expect(!details.contains { $0.contains("TEMP B-TREE") }, "plan: \(details)")
    }

    @Test func freshDatabaseIsMigratedAndReopens() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("nested/dir/q.db")
        let first = try SQLiteQueue(path: path)
        #expect(try first.schemaVersion() == Migrations.all.count)
        let again = try SQLiteQueue(path: path)
        #expect(try again.schemaVersion() == Migrations.all.count)
        let mode = try again.readSync { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func migrationsComeFromTheMigrationsFolder() async throws {
        let folder = Executables.packageRoot.appending(path: "migrations/sqlite")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.map { String($0.dropLast(4)) } == Migrations.all.map(\.id))
        for (file, migration) in zip(files, Migrations.all) {
            #expect(try String(contentsOf: folder.appending(path: file), encoding: .utf8) == migration.sql)
        }
    }

    @Test func newerSchemaIsRefused() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("q.db")
        let queue = try SQLiteQueue(path: path)
        try queue.pool.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999_from_the_future')")
        }
        #expect(throws: QueueError.self) { try SQLiteQueue(path: path) }
        do {
            _ = try SQLiteQueue(path: path)
        } catch let error as QueueError {
            guard case .newerSchema = error else { Issue.record("wrong error \(error)"); return }
            #expect(error.description.contains("newer arun"))
            #expect(error.exitCode == 4)
        }
    }

    @Test func fileThatIsNotSQLiteIsRefused() async throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("notes.db", "these are my notes, not a database\n")
        #expect(throws: QueueError.notADatabase(path: path)) { try SQLiteQueue(path: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("these are my notes"), "nothing overwritten")
    }

    @Test func unwritableLocationIsRefused() async throws {
        let folder = try TemporaryFolder()
        let blocker = try folder.write("plainfile", "x")
        do {
            _ = try SQLiteQueue(path: blocker + "/sub/q.db")
            Issue.record("opened a database under a regular file")
        } catch let error as QueueError {
            guard case .unwritable = error else { Issue.record("wrong error \(error)"); return }
            #expect(error.exitCode == 4)
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func locationFollowsFlagThenEnvironmentThenDefault() {
        #expect(DatabaseLocation.resolve(explicit: "/a/b.db", environment: ["ARUN_DB": "/c.db"]) == "/a/b.db")
        #expect(DatabaseLocation.resolve(explicit: nil, environment: ["ARUN_DB": "/c.db"]) == "/c.db")
        #expect(DatabaseLocation.resolve(explicit: nil, environment: [:], currentDirectory: "/w") == "/w/.arun/arun.db")
        #expect(DatabaseLocation.resolve(explicit: "x.db", environment: [:], currentDirectory: "/w") == "/w/x.db")
    }

    @Test func collectionErrorsAreStoredOncePerLocation() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.db"))
        let run = try await queue.createRun(NewRun(collectionErrors: [CollectionProblem(location: "a.py", message: "SyntaxError")]))
        try await queue.addCollectionErrors([CollectionProblem(location: "b.py", message: "ImportError")], run: run.id)
        try await queue.addCollectionErrors([CollectionProblem(location: "b.py", message: "ImportError")], run: run.id)
        #expect(try await queue.collectionErrors(run: run.id).map(\.location) == ["a.py", "b.py"])
    }

    @Test func enqueueSplitsIntoBatchesAndKeepsOrder() async throws {
        let folder = try TemporaryFolder()
        var configuration = SQLiteQueueConfiguration()
        configuration.enqueueBatchSize = 10
        let queue = try SQLiteQueue(path: folder.file("q.db"), configuration: configuration)
        let run = try await queue.createRun(NewRun())
        let jobs = (0..<7).map { index in
            NewJob(name: "j\(index)", tests: (0..<4).map { NewTest(nodeid: "f\(index).py::t\($0)") })
        }
        let ids = try await queue.enqueue(jobs, into: run.id)
        #expect(ids.count == 7)
        #expect(ids == ids.sorted())
        let tests = try queue.readSync { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tests") }
        #expect(tests == 28)
    }

    @Test func finishedRunLeavesAnEmptyJournal() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("q.db")
        let queue = try SQLiteQueue(path: path)
        let run = try await queue.createRun(NewRun())
        try await queue.setStatus(.running, of: run.id)
        // Enough tests that the WAL holds megabytes before the run ends.
        try await queue.enqueue((0..<20).map { index in
            NewJob(name: "j\(index)", tests: (0..<1_000).map { NewTest(nodeid: "f\(index).py::t\($0)") })
        }, into: run.id)
        let walSize = { (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0 }
        #expect(walSize() > 1_000_000, "the WAL holds the enqueued tests")
        while let claim = try await queue.claim(run: run.id, worker: "w", lease: 60) {
            #expect(try await queue.complete(claim))
        }
        #expect(try await queue.completeIfDrained(run: run.id))
        #expect(walSize() == 0, "the run's last write checkpointed and truncated the WAL")
        #expect(try await queue.run(run.id).status == .complete)
    }
}
