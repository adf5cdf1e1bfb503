import ArgumentParser
import Foundation
import Planner
import Pytest
import Queue
import Runner
import Worker

/// `--db PATH` or `--db postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE`
/// (else `ARUN_DB`, else `.arun/arun.db`).
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The database: a file, or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB (default: $ARUN_DB or .arun/arun.db).")
    var db: String?

    @Option(name: .customLong("lock-timeout"),
            help: "Seconds to wait for a database lock another program holds, then stop (exit 2, resumable).")
    var lockTimeout: Double = 300

    var path: String { DatabaseLocation.resolve(explicit: db) }

    init() {}

    func validate() throws {
        if lockTimeout <= 0 { throw ValidationError("--lock-timeout must be more than 0 seconds") }
    }

    /// One database named on the command line (`report --merge`).
    init(db: String) { self.db = db }

    /// `--db`/`ARUN_DB` as a backend: a file path or a postgresql:// URL.
    func address() throws -> DatabaseAddress { try DatabaseAddress.resolve(explicit: db) }

    /// Opens (creating and migrating) the store, on either backend. `verifying`: a SQLite
    /// file gets `PRAGMA quick_check` first, for commands that add a run or resume one.
    func open(verifying: Bool = false) async throws -> any RunStore {
        switch try address() {
        case let .sqlite(path):
            var configuration = SQLiteQueueConfiguration()
            configuration.verifyIntegrity = verifying
            configuration.lockTimeout = lockTimeout
            configuration.onLockWait = { LockNotice.shared.report($0) }
            // Fault injection (tests where no small filesystem can be mounted): a "full disk" at N pages.
            configuration.maxPageCount = ProcessInfo.processInfo.environment["ARUN_SQLITE_MAX_PAGE_COUNT"].flatMap { Int($0) }
            return try SQLiteQueue(path: path, configuration: configuration)
        case let .postgres(address):
            return try await PostgresQueue(address: address)
        }
    }

    /// For commands that only read: a SQLite file opens read-only (creates, migrates and
    /// locks nothing); a PostgreSQL database is read through its queue.
    func openForReading() async throws -> any RunReader {
        switch try address() {
        case let .sqlite(path): try SQLiteReader(readingAt: path)
        case let .postgres(address): try await PostgresQueue(address: address)
        }
    }

    /// How `arun work` children reach the same database. A URL travels in `ARUN_DB`,
    /// never on a command line where `ps` would show its password.
    func childArguments() throws -> [String] {
        guard case let .postgres(address) = try address() else { return ["--db", path] }
        setenv("ARUN_DB", address.url, 1)
        return []
    }

    /// Folder for a run's pytest logs: beside a database file, else under `.arun/` here.
    func logDirectory(run: RunID) -> URL {
        if case .postgres? = try? address() {
            return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appending(path: ".arun/logs/run-\(run)")
        }
        return URL(fileURLWithPath: path).deletingLastPathComponent().appending(path: "logs/run-\(run)")
    }
}

/// `--python PATH` (else `ARUN_PYTHON`, else the Python beside arun, else python3).
struct PythonOptions: ParsableArguments {
    @Option(name: .long, help: "The Python that runs pytest (default: $ARUN_PYTHON, else the python3 beside arun, as in the venv arun was installed into, else python3 on PATH).")
    var python: String?

    var interpreter: PythonInterpreter { PythonInterpreter(explicit: python) }

    /// These options with the interpreter resolved to its real executable, checked to import pytest.
    func resolved() async throws -> PythonOptions {
        var options = self
        options.python = try await interpreter.resolved().command
        return options
    }
}

/// How to split the suite into jobs: the planner's flags.
struct PlanOptions: ParsableArguments {
    @Argument(help: "Test paths or node ids, as for pytest.")
    var paths: [String] = []

    @Option(name: .customLong("dist-mark"), parsing: .upToNextOption,
            help: "One job per mark expression (\"m1 m2\" as one argument works too).")
    var distMark: [String] = []

    @Option(name: .customLong("dist-file"), help: "One job per test file in this folder.")
    var distFile: String?

    @Option(name: .customLong("dist-suite"), help: "One job per subfolder of this folder.")
    var distSuite: String?

    @Option(help: "aomaker strategy file (default: conf/dist_strategy.yaml or conf/aomaker.yaml when present).")
    var strategy: String?

    @Flag(name: .customLong("no-strategy"), help: "Ignore conf/dist_strategy.yaml and conf/aomaker.yaml.")
    var noStrategy = false

    @Option(name: .customLong("shard-count"), parsing: .unconditional, help: "Split across this many machines (with --shard-index).")
    var shardCount: Int?

    @Option(name: .customLong("shard-index"), parsing: .unconditional, help: "This machine's slice, 0-based.")
    var shardIndex: Int?

    @Option(help: "Durations file (from `arun durations export`) that static shards are weighed by.")
    var durations: String?

    @Option(help: "A name for the run.")
    var name: String?

    /// `--dist-mark fast tests/sub`: the option takes every word up to the next option,
    /// so a value that names an existing path (or a node id in an existing file) is a
    /// path, as it would be for pytest; mark expressions never name files.
    mutating func validate() throws {
        let directory = FileManager.default.currentDirectoryPath
        let isPath = { (value: String) -> Bool in
            let file = value.components(separatedBy: "::")[0]
            guard !file.isEmpty else { return false }
            let path = file.hasPrefix("/") ? file : URL(fileURLWithPath: directory).appending(path: file).path
            return FileManager.default.fileExists(atPath: path)
        }
        let named = distMark.filter(isPath)
        if !named.isEmpty && named.count == distMark.count {
            throw ValidationError("--dist-mark needs a mark expression before the paths, e.g. --dist-mark smoke \(named[0])")
        }
        paths += named
        distMark.removeAll(where: isPath)
        if strategy != nil && noStrategy { throw ValidationError("--strategy and --no-strategy cannot be combined: choose one") }
        if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be at least 1") }
        if let shardCount, let shardIndex, !(0..<shardCount).contains(shardIndex) {
            throw ValidationError("--shard-index must be from 0 to \(shardCount - 1) for --shard-count \(shardCount), not \(shardIndex)")
        }
    }

    /// The mode the flags ask for, or the strategy file found in conf/ (unless `--no-strategy`).
    func mode(directory: String) throws -> SplitMode {
        var chosen: [String] = []
        if !distMark.isEmpty { chosen.append("--dist-mark") }
        if distFile != nil { chosen.append("--dist-file") }
        if distSuite != nil { chosen.append("--dist-suite") }
        if strategy != nil { chosen.append("--strategy") }
        if chosen.count > 1 { throw PlanError.conflictingModes(chosen) }
        if !distMark.isEmpty { return .marks(Grouping.splitMarkArguments(distMark)) }
        if let distFile { return .files(directory: distFile) }
        if let distSuite { return .suites(directory: distSuite) }
        if let strategy { return .strategy(file: strategy) }
        if !noStrategy, let found = Strategy.locate(in: URL(fileURLWithPath: directory)) {
            return .strategy(file: found.path)
        }
        return .automatic
    }

    /// The first line of a run or plan that uses a strategy file: which file, and how not to.
    func strategyNotice(_ mode: SplitMode, directory: String) -> String? {
        guard case let .strategy(file) = mode else { return nil }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        let shown = file.hasPrefix(prefix) ? String(file.dropFirst(prefix.count)) : file
        return strategy == nil
            ? "strategy file \(shown): one job per group (found in conf/; --no-strategy ignores it)"
            : "strategy file \(shown): one job per group"
    }

    /// `--shard-count/--shard-index`, else Bazel's TEST_TOTAL_SHARDS/TEST_SHARD_INDEX.
    func shard(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ShardSpec? {
        switch (shardCount, shardIndex) {
        case let (count?, index?): return ShardSpec(count: count, index: index)
        case (nil, nil):
            guard let total = environment["TEST_TOTAL_SHARDS"], let index = environment["TEST_SHARD_INDEX"] else {
                return nil
            }
            guard let count = Int(total), let slice = Int(index) else {
                throw UsageError("TEST_TOTAL_SHARDS/TEST_SHARD_INDEX must be whole numbers, got '\(total)' and '\(index)'")
            }
            // Bazel asks runners to touch this file to show they shard.
            if let status = environment["TEST_SHARD_STATUS_FILE"] {
                _ = FileManager.default.createFile(atPath: status, contents: nil)
            }
            return ShardSpec(count: count, index: slice)
        default:
            throw UsageError("--shard-count and --shard-index go together: give both")
        }
    }

    /// Reads the durations file: a JSON object of node id → seconds (pytest-split's format too).
    func durationsFromFile() throws -> [String: Double] {
        guard let durations else { return [:] }
        guard let data = FileManager.default.contents(atPath: durations) else {
            throw PlanError.durationsUnreadable(path: durations, reason: "cannot be read")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PlanError.durationsUnreadable(path: durations, reason: "not a JSON object of node id to seconds")
        }
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }
}

/// How workers run: the worker flags shared by `run` and `work`.
/// How `arun run` and `arun rerun` host their workers.
struct WorkerModeOptions: ParsableArguments {
    @Flag(name: .customLong("mt"), help: "Workers as tasks of this process (default); pytest always runs in its own processes.")
    var multiTask = false

    @Flag(name: .customLong("mp"), help: "Workers as separate `arun work` processes.")
    var multiProcess = false

    @Option(name: .customLong("max-worker-restart"),
            help: "Dead workers replaced before the run stops (exit 2, resumable). Default: 4 × workers.")
    var maxWorkerRestart: Int?

    func validate() throws {
        if multiTask && multiProcess { throw ValidationError("--mt and --mp cannot be combined: choose one") }
        if let maxWorkerRestart, maxWorkerRestart < 0 { throw ValidationError("--max-worker-restart must be 0 or more") }
    }

    /// `--mp` true, `--mt` false, neither nil (a resumed run keeps its own).
    var given: Bool? { multiProcess ? true : (multiTask ? false : nil) }
}

struct WorkerOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Seconds a job's lease lasts without a heartbeat (default: 60, or the run's own).")
    var lease: Double?

    @Option(name: .customLong("test-timeout"), parsing: .unconditional, help: "Kill a test running longer than this many seconds.")
    var testTimeout: Double?

    @Flag(name: [.customShort("x"), .customLong("exitfirst")], help: "Stop the whole run at the first failure.")
    var exitFirst = false

    @Option(parsing: .unconditional, help: "Stop the whole run after this many failures.")
    var maxfail: Int?

    /// Checked while parsing, before anything is written.
    func validate() throws {
        if let lease, !(lease.isFinite && lease > 0) {
            throw ValidationError("--lease must be more than 0 seconds, e.g. --lease 60")
        }
        if let testTimeout, !(testTimeout.isFinite && testTimeout > 0) {
            throw ValidationError("--test-timeout must be more than 0 seconds, e.g. --test-timeout 60")
        }
        if let maxfail, maxfail < 1 { throw ValidationError("--maxfail must be at least 1 (--maxfail 1 is -x)") }
    }

    /// The options given on the command line (nil when not given): they override a run's stored settings.
    var given: RunSettings {
        RunSettings(lease: lease, testTimeout: testTimeout, maxFail: exitFirst ? 1 : maxfail)
    }
}
