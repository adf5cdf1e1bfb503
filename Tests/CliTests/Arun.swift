import Foundation
import GRDB
@testable import Queue
import TestSupport

/// Runs the built `arun` binary and reads its database: the end-to-end view.
struct ArunHarness {
    let folder: TemporaryFolder
    var db: String { folder.file(".arun/test.db") }

    init(_ label: String = "arun-e2e") throws { folder = try TemporaryFolder(label) }

    /// Arguments with `--db` placed before any `--` passthrough.
    func arguments(_ arguments: [String]) -> [String] {
        guard let split = arguments.firstIndex(of: "--") else { return arguments + ["--db", db] }
        return Array(arguments[..<split]) + ["--db", db] + Array(arguments[split...])
    }

    func arun(_ arguments: [String], timeout: Double = 300) throws -> ProcessOutput {
        try ChildProcess.run(Executables.arun, self.arguments(arguments), directory: folder.path, timeout: timeout)
    }

    func start(_ arguments: [String]) throws -> RunningProcess {
        try ChildProcess.start(Executables.arun, self.arguments(arguments), directory: folder.path)
    }

    func queue() throws -> SQLiteQueue { try SQLiteQueue(path: db) }

    /// (nodeid, outcome) of every result row of a run, all attempts.
    func results(run: Int64 = 1) throws -> [(nodeid: String, outcome: String, attempt: Int)] {
        try queue().readSync { db in
            try Row.fetchAll(db, sql: """
                SELECT t.nodeid, r.outcome, r.attempt FROM results r JOIN tests t ON t.id = r.test_id
                WHERE r.run_id = ? ORDER BY t.nodeid
                """, arguments: [run]).map { ($0[0], $0[1], $0[2]) }
        }
    }

    func testCount(run: Int64 = 1) throws -> Int {
        try queue().readSync { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tests WHERE run_id = ?", arguments: [run]) ?? 0 }
    }
}
