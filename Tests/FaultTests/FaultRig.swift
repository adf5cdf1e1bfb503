import Foundation
import GRDB
import TestSupport

/// One fault trial: a generated suite in a temporary folder, the built `arun` run on it,
/// and what its database holds afterwards. Every trial asserts the same invariant (each
/// test has exactly one result) and adds a row to RELIABILITY.md's table.
final class FaultRig: @unchecked Sendable {
    let folder: TemporaryFolder
    let tests: Int
    let started = Date()
    var db: String { folder.file(".arun/arun.db") }

    /// `files` files of `perFile` passing tests that sleep `sleep` s each.
    init(_ label: String, files: Int = 12, perFile: Int = 25, sleep: Double = 0.04) throws {
        folder = try TemporaryFolder("arun-fault-\(label)")
        tests = files * perFile
        try Suites.trivial(in: folder, files: files, perFile: perFile, folders: 3, sleep: sleep)
    }

    func arguments(_ arguments: [String]) -> [String] { arguments + ["--db", db] }

    func arun(_ arguments: [String], timeout: Double = 300, environment: [String: String] = [:]) throws -> ProcessOutput {
        try ChildProcess.run(Executables.arun, self.arguments(arguments), directory: folder.path,
                             environment: environment, timeout: timeout)
    }

    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> RunningProcess {
        try ChildProcess.start(Executables.arun, self.arguments(arguments), directory: folder.path,
                               environment: environment)
    }

    /// Reads the database on a read-only connection of its own (never blocked by writers).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: db, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read(body)
    }

    /// Result rows of the run so far (0 while the database does not exist yet).
    func resultCount(run: Int64 = 1) -> Int {
        (try? read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM results WHERE run_id = ?", arguments: [run]) ?? 0 }) ?? 0
    }

    /// Waits until the run has at least `count` results.
    func waitForResults(_ count: Int, run: Int64 = 1, timeout: Double = 180) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while resultCount(run: run) < count {
            if Date() > deadline { throw ChildError.timedOut("waiting for \(count) results, have \(resultCount(run: run))") }
            usleep(50_000)
        }
    }

    func status(run: Int64 = 1) throws -> String? {
        try read { try String.fetchOne($0, sql: "SELECT status FROM runs WHERE id = ?", arguments: [run]) }
    }

    /// Every test once: tests the suite holds, tests with a result, and result rows.
    struct Tally: CustomStringConvertible {
        var expected: Int
        var known: Int
        var withResult: Int
        var rows: Int
        var outcomes: [String: Int]
        var lost: Int { expected - withResult }
        var duplicated: Int { rows - withResult }
        var exactlyOnce: Bool { known == expected && withResult == expected && rows == expected }
        var description: String { "expected \(expected), known \(known), with result \(withResult), rows \(rows), \(outcomes)" }
    }

    func tally(run: Int64 = 1, expected: Int? = nil) throws -> Tally {
        try read { db in
            let known = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tests WHERE run_id = ?", arguments: [run]) ?? 0
            let rows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results WHERE run_id = ?", arguments: [run]) ?? 0
            let distinct = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT test_id) FROM results WHERE run_id = ?",
                                            arguments: [run]) ?? 0
            var outcomes: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT outcome, COUNT(*) FROM results WHERE run_id = ? GROUP BY outcome",
                                        arguments: [run]) {
                outcomes[row[0]] = row[1]
            }
            return Tally(expected: expected ?? tests, known: known, withResult: distinct, rows: rows, outcomes: outcomes)
        }
    }

    /// One row of RELIABILITY.md's table, printed for the record (`swift test` shows it).
    func record(_ fault: String, _ tally: Tally, exit: Int32) {
        let wall = Date().timeIntervalSince(started)
        let row = "| \(fault) | \(tally.expected) | \(tally.lost) | \(tally.duplicated) | \(exit) | \(String(format: "%.1f", wall)) s |"
        print("fault-row: \(row)")
        if let table = ProcessInfo.processInfo.environment["ARUN_FAULT_TABLE"],
           let handle = FileHandle(forWritingAtPath: table) ?? {
               _ = FileManager.default.createFile(atPath: table, contents: nil)
               return FileHandle(forWritingAtPath: table)
           }() {
            handle.seekToEndOfFile()
            handle.write(Data((row + "\n").utf8))
            try? handle.close()
        }
    }
}

/// Processes under a pid, from /proc.
enum Processes {
    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { stat($0)?.parent == parent }
    }

    /// The pid and everything below it.
    static func tree(_ root: Int32) -> [Int32] {
        [root] + children(of: root).flatMap(tree)
    }

    /// Running (not gone, not a zombie).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let state = stat(pid)?.state else { return false }
        return state != "Z" && state != "X"
    }

    static func commandLine(_ pid: Int32) -> String {
        let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// `arun work` children of an `arun run --mp`.
    static func workers(of run: Int32) -> [Int32] {
        children(of: run).filter { commandLine($0).contains(" work ") && isRunning($0) }
    }

    /// pytest processes below `root`.
    static func pytests(under root: Int32) -> [Int32] {
        tree(root).filter { commandLine($0).contains("pytest") && isRunning($0) }
    }

    /// Waits until none of `pids` runs; returns those still running after `timeout`.
    static func waitGone(_ pids: [Int32], timeout: Double = 20) -> [Int32] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !pids.contains(where: isRunning) { return [] }
            usleep(100_000)
        }
        return pids.filter(isRunning)
    }

    private static func stat(_ pid: Int32) -> (state: Substring, parent: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let parent = Int32(fields[1]) else { return nil }
        return (fields[0], parent)
    }
}

/// Holds SQLite's write lock on a database from another process (Python's sqlite3), as
/// another program would.
final class LockHolder {
    let process: RunningProcess

    init(db: String, seconds: Double) throws {
        process = try ChildProcess.start("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
            c.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            time.sleep(float(sys.argv[2]))
            c.execute("ROLLBACK")
            """, db, String(seconds)])
        try process.waitForOutput(containing: "locked", timeout: 60)
    }

    func wait() throws { _ = try process.wait(timeout: 120) }
}

/// A small tmpfs for the database folder, where this machine lets the test mount one.
final class SmallDisk {
    let path: String

    init?(at path: String, megabytes: Int) {
        self.path = path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard getuid() == 0, Self.run(["mount", "-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path]) else {
            return nil
        }
    }

    /// Fills the disk with a file, leaving nothing free.
    func fill() { _ = Self.run(["dd", "if=/dev/zero", "of=\(path)/filler", "bs=64k"]) }
    func free() { try? FileManager.default.removeItem(atPath: "\(path)/filler") }
    func remount(readOnly: Bool) -> Bool { Self.run(["mount", "-o", "remount,\(readOnly ? "ro" : "rw")", path]) }

    deinit { _ = Self.run(["umount", "-l", path]) }

    static var canMount: Bool {
        guard getuid() == 0, let probe = try? TemporaryFolder("arun-mount-probe") else { return false }
        guard run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.path]) else { return false }
        return run(["umount", probe.path])
    }

    @discardableResult
    static func run(_ arguments: [String]) -> Bool {
        guard let output = try? ChildProcess.run("/usr/bin/env", arguments, timeout: 60) else { return false }
        return output.status == 0 && !output.signaled
    }
}
