import Foundation
import GRDB
import Queue
import TestSupport
import Testing

/// `report` (every format), `runs`, `history` and `durations export` only read: they work
/// on a read-only database in a read-only folder, do not wait for a writer, and create
/// nothing where there is no database.
@Suite(.serialized) struct ReadOnlyTests {
    static let node = "tests/pkg0/test_f0.py::test_0"

    /// Every read-only command, with what its output must contain.
    static func commands(db: String) -> [(arguments: [String], expected: String)] {
        [
            (["report", "--db", db], "run 1"),
            (["report", "--db", db, "--format", "json"], "\"totals\""),
            (["report", "--db", db, "--format", "junit"], "<testsuite"),
            (["report", "--db", db, "--format", "markdown"], "passed"),
            (["report", "--db", db, "--format", "html"], "<html"),
            (["report", "--merge", db, db + "-copy.db", "--format", "json"], "\"merge\""),
            (["runs", "--db", db], "complete"),
            (["history", node, "--db", db], "passed"),
            (["durations", "export", "--db", db], node),
        ]
    }

    /// A finished run's database, checkpointed into its main file.
    static func finishedRun() throws -> ArunHarness {
        let arun = try ArunHarness("arun-readonly")
        try Suites.trivial(in: arun.folder, files: 2, perFile: 2)
        let output = try arun.arun(["run", "-n", "1"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        try DatabaseQueue(path: arun.db).writeWithoutTransaction { db in
            _ = try db.checkpoint(.truncate)
        }
        return arun
    }

    @Test func readOnlyFileInReadOnlyFolderAsUnprivilegedUser() throws {
        let arun = try Self.finishedRun()
        let shelf = try TemporaryFolder("arun-readonly-shelf")
        let db = shelf.file("locked/arun.db")
        try FileManager.default.createDirectory(atPath: shelf.file("locked"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: arun.db, toPath: db)
        try FileManager.default.copyItem(atPath: arun.db, toPath: db + "-copy.db")
        for file in [db, db + "-copy.db"] { chmod(file, 0o444) }
        chmod(shelf.file("locked"), 0o555)
        chmod(shelf.path, 0o755)
        defer { chmod(shelf.file("locked"), 0o755) }
        let before = try FileManager.default.contentsOfDirectory(atPath: shelf.file("locked")).sorted()
        for (arguments, expected) in Self.commands(db: db) {
            let output = try Self.unprivileged(arguments, directory: shelf.path)
            #expect(output.status == 0, "\(arguments): \(output.stderr)")
            #expect(output.stdout.contains(expected), "\(arguments): \(output.stdout.prefix(300))")
        }
        let after = try FileManager.default.contentsOfDirectory(atPath: shelf.file("locked")).sorted()
        #expect(before == after, "nothing created beside the database")
    }

    @Test func readersDoNotWaitForAWriteTransaction() throws {
        let arun = try Self.finishedRun()
        try FileManager.default.copyItem(atPath: arun.db, toPath: arun.db + "-copy.db")
        let writer = try DatabaseQueue(path: arun.db)
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "UPDATE runs SET name = 'held' WHERE id = 1")
            for (arguments, expected) in Self.commands(db: arun.db) {
                let started = Date()
                // The busy timeout is 30 s: a command that waited for the writer would take it all.
                let output = try ChildProcess.run(Executables.arun, arguments, directory: arun.folder.path, timeout: 120)
                #expect(output.status == 0, "\(arguments): \(output.stderr)")
                #expect(output.stdout.contains(expected), "\(arguments): \(output.stdout.prefix(300))")
                #expect(Date().timeIntervalSince(started) < 25, "\(arguments) waited for the writer")
            }
            try db.execute(sql: "ROLLBACK")
        }
    }

    @Test func missingDatabaseIsOneLineExitFourAndCreatesNothing() throws {
        let folder = try TemporaryFolder("arun-readonly-missing")
        let db = folder.file("absent/arun.db")
        for (arguments, _) in Self.commands(db: db) where arguments[0] != "report" || !arguments.contains("--merge") {
            let output = try ChildProcess.run(Executables.arun, arguments, directory: folder.path)
            #expect(output.status == 4, "\(arguments): \(output.stdout)\(output.stderr)")
            #expect(output.stderr.split(separator: "\n").count == 1, "\(arguments): \(output.stderr)")
            #expect(output.stderr.contains("no arun database at \(db)"), "\(arguments): \(output.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("absent")), "nothing created")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    /// Runs arun as `nobody` when we are root (root ignores file permissions).
    static func unprivileged(_ arguments: [String], directory: String) throws -> ProcessOutput {
        if getuid() == 0 {
            return try ChildProcess.run("/usr/sbin/runuser", ["-u", "nobody", "--", Executables.arun] + arguments,
                                        directory: directory)
        }
        return try ChildProcess.run(Executables.arun, arguments, directory: directory)
    }
}
