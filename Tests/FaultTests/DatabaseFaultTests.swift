import Foundation
import GRDB
import TestSupport
import Testing

/// The database under attack: a lock another program holds, a full or read-only disk,
/// and files that are not arun's database. Real SQLite files, real processes.
@Suite(.serialized) struct DatabaseFaultTests {
    /// A lock held longer than SQLite's busy timeout (2 s) but within --lock-timeout:
    /// the console says what is awaited and since when, and the run goes on.
    @Test func lockHeldPastTheBusyTimeoutIsWaitedOut() throws {
        let rig = try FaultRig("lock-wait", files: 8, perFile: 25, sleep: 0.04)
        let run = try rig.start(["run", "-n", "2"])
        try rig.waitForResults(30)
        let holder = try LockHolder(db: rig.db, seconds: 6)
        try holder.wait()
        let output = try run.wait()
        let tally = try rig.tally()
        rig.record("write lock held 6 s mid-run (busy timeout 2 s)", tally, exit: output.status)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(tally.exactlyOnce, "\(tally)")
        #expect(output.stderr.contains("waiting for the database lock: another program has held a write transaction on \(rig.db) since "),
                "\(output.stderr)")
        #expect(output.stderr.contains("got the database lock after"), "\(output.stderr)")
        #expect(try rig.status() == "complete")
    }

    /// A lock held past --lock-timeout: a clean stop (exit 2, the summary, resumable),
    /// in worker processes too; the resume finishes every test once.
    @Test func lockHeldPastTheLockTimeoutStopsResumably() throws {
        let rig = try FaultRig("lock-timeout", files: 8, perFile: 25, sleep: 0.04)
        let run = try rig.start(["run", "--mp", "-n", "2", "--lock-timeout", "4"])
        try rig.waitForResults(30)
        let holder = try LockHolder(db: rig.db, seconds: 15)
        let output = try run.wait()
        try holder.wait()
        #expect(output.status == 2, "\(output.stdout)\(output.stderr)")
        #expect(output.stderr.contains("s (--lock-timeout): another program holds a write transaction"),
                "\(output.stderr)")
        #expect(output.stdout.contains("finish it with `arun run --resume"), "\(output.stdout)")
        let resumed = try rig.arun(["run", "--resume"])
        let tally = try rig.tally()
        rig.record("write lock held past --lock-timeout 4 (--mp), then --resume", tally, exit: output.status)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(tally.exactlyOnce, "\(tally)")
    }

    /// A lock held before arun starts: the message counts the seconds really waited.
    @Test func lockHeldBeforeStartSaysHowLong() throws {
        let rig = try FaultRig("lock-first", files: 2, perFile: 5, sleep: 0)
        #expect(try rig.arun(["run", "-n", "1"]).status == 0)
        let holder = try LockHolder(db: rig.db, seconds: 20)
        let output = try rig.arun(["run", "-n", "1", "--lock-timeout", "3"])
        try holder.wait()
        #expect(output.status == 2, "\(output.stdout)\(output.stderr)")
        // The seconds really waited: the limit, give or take SQLite's own busy wait (2 s).
        let said = output.stderr.range(of: #"stayed locked for \d+ s"#, options: .regularExpression)
            .flatMap { Int(output.stderr[$0].split(separator: " ")[3]) }
        #expect(said.map { (3...6).contains($0) } == true, "\(output.stderr)")
    }

    /// The disk fills mid-run: a clean stop with the reason; space freed, the resume
    /// finishes every test once. A small tmpfs where the test may mount one, else SQLite's
    /// `max_page_count` stands in for the disk's size.
    @Test func fullDiskStopsCleanlyAndResumes() throws {
        let rig = try FaultRig("disk-full", files: 16, perFile: 25, sleep: 0.02)
        if let disk = SmallDisk(at: rig.folder.file(".arun"), megabytes: 8) {
            let run = try rig.start(["run", "-n", "2"])
            try rig.waitForResults(40)
            disk.fill()
            let output = try run.wait()
            disk.free()
            try check(rig, output, fault: "disk full (8 MB tmpfs filled mid-run), then --resume")
        } else {
            let pages = ["ARUN_SQLITE_MAX_PAGE_COUNT": "60"]
            let output = try rig.arun(["run", "-n", "2"], environment: pages)
            try check(rig, output, fault: "disk full (PRAGMA max_page_count), then --resume")
        }

        func check(_ rig: FaultRig, _ output: ProcessOutput, fault: String) throws {
            #expect(output.status == 2, "\(output.stdout)\(output.stderr)")
            #expect(output.stderr.contains("is full: free some space"), "\(output.stderr)")
            let resumed = try rig.arun(["run", "--resume"])
            let tally = try rig.tally()
            rig.record(fault, tally, exit: output.status)
            #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
            #expect(tally.exactlyOnce, "\(tally)")
        }
    }

    /// The database made read-only mid-run (file modes): SQLite keeps the files it
    /// opened, so the run finishes every test once; the next arun is refused with exit 4
    /// and the file is untouched. Root ignores file modes, so as root arun runs in a user
    /// namespace as an unprivileged owner; a read-only remount is refused while SQLite
    /// holds files open for writing.
    @Test func readOnlyDatabaseMidRun() throws {
        let rig = try FaultRig("read-only", files: 12, perFile: 25, sleep: 0.04)
        try FileManager.default.createDirectory(atPath: rig.folder.file(".arun"), withIntermediateDirectories: true)
        let command = getuid() == 0
            ? ["/usr/bin/unshare", "--user", "--map-user=1000", "--map-group=1000", "--", Executables.arun]
            : [Executables.arun]
        func start(_ arguments: [String]) throws -> RunningProcess {
            try ChildProcess.start(command[0], Array(command.dropFirst()) + rig.arguments(arguments),
                                   directory: rig.folder.path)
        }
        let run = try start(["run", "--mp", "-n", "2"])
        try rig.waitForResults(40)
        let files = [rig.db, rig.db + "-wal", rig.db + "-shm"].filter { FileManager.default.fileExists(atPath: $0) }
        #expect(SmallDisk.run(["chmod", "0444"] + files))
        #expect(SmallDisk.run(["chmod", "0555", rig.folder.file(".arun")]))
        let output = try run.wait()
        let tally = try rig.tally()
        rig.record("database files made read-only mid-run (chmod 0444, --mp)", tally, exit: output.status)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(tally.exactlyOnce, "\(tally)")
        let before = try Data(contentsOf: URL(fileURLWithPath: rig.db))
        let next = try start(["run", "-n", "1"]).wait()
        #expect(next.status == 4, "\(next.stdout)\(next.stderr)")
        #expect(next.stderr.contains("cannot write the database"), "\(next.stderr)")
        #expect(next.stderr.split(separator: "\n").count == 1, "\(next.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: rig.db)) == before)
        _ = SmallDisk.run(["chmod", "-R", "u+w", rig.folder.path])
    }

    /// Files that are not arun's database: each its own message, exit 4, the file untouched.
    @Test(arguments: ["empty", "text", "foreign", "zeroed page", "truncated", "quick_check"])
    func filesAreToldApart(kind: String) throws {
        let rig = try FaultRig("files", files: 2, perFile: 5, sleep: 0)
        let path = rig.folder.file("suspect.db")
        var command = ["run", "-n", "1", "--db", path]
        let expected: String
        switch kind {
        case "empty":
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            expected = "is an empty file, not an arun database"
        case "text":
            try rig.folder.write("suspect.db", "my notes\n")
            expected = "is not an arun database (not a SQLite file)"
        case "foreign":
            let other = try DatabaseQueue(path: path)
            try other.write { try $0.execute(sql: "CREATE TABLE runs (x); CREATE TABLE invoices (id INTEGER PRIMARY KEY)") }
            try other.close()
            expected = "is another application's SQLite database (tables invoices, runs; no arun schema)"
        default:
            let made = try ChildProcess.run(Executables.arun, ["run", "-n", "1", "--db", path], directory: rig.folder.path)
            #expect(made.status == 0, "\(made.stdout)\(made.stderr)")
            try? FileManager.default.removeItem(atPath: path + "-wal")
            try? FileManager.default.removeItem(atPath: path + "-shm")
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            let (root, pageSize) = try DatabaseQueue(path: path).read { db in
                (try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'tests_by_nodeid'") ?? 0,
                 try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096)
            }
            try? FileManager.default.removeItem(atPath: path + "-wal")
            try? FileManager.default.removeItem(atPath: path + "-shm")
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            switch kind {
            case "zeroed page":
                try handle.seek(toOffset: 4096)
                handle.write(Data(count: 4096 * 2))
            case "truncated":
                try handle.truncate(atOffset: UInt64(size / 2))
            default:
                // An index page's cell count garbled: schema reads work, quick_check does not.
                try handle.seek(toOffset: UInt64((root - 1) * pageSize + 3))
                handle.write(Data([0x7F, 0xFF]))
            }
            try handle.close()
            command = ["run", "--resume", "--db", path]
            expected = "is a damaged SQLite database"
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let output = try ChildProcess.run(Executables.arun, command, directory: rig.folder.path)
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(output.status == 4, "\(kind): \(output.stdout)\(output.stderr)")
        #expect(output.stderr.contains(expected), "\(kind): \(output.stderr)")
        #expect(output.stderr.split(separator: "\n").count == 1, "one line: \(output.stderr)")
        #expect(output.stderr.contains("--db"), "names the fix: \(output.stderr)")
        #expect(before == after, "\(kind): the file was changed (\(before.count) → \(after.count) bytes)")
    }
}
