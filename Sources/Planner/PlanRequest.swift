import Foundation
import Pytest

/// How to split a suite into jobs.
public enum SplitMode: Sendable, Equatable {
    /// Duration-balanced shards for the workers.
    case automatic
    /// One group per mark expression (`--dist-mark`).
    case marks([String])
    /// One group per test file in a folder (`--dist-file`).
    case files(directory: String)
    /// One group per subfolder of a folder (`--dist-suite`).
    case suites(directory: String)
    /// One group per mark of an aomaker strategy file.
    case strategy(file: String)

    /// How the mode is written in the run's settings.
    public var label: String {
        switch self {
        case .automatic: "auto"
        case .marks: "dist-mark"
        case .files: "dist-file"
        case .suites: "dist-suite"
        case .strategy: "strategy"
        }
    }
}

/// One slice of a suite split across machines (Tradefed/Bazel static sharding), 0-based.
public struct ShardSpec: Sendable, Equatable {
    public var count: Int
    public var index: Int

    public init(count: Int, index: Int) {
        self.count = count
        self.index = index
    }
}

/// Everything the planner needs to turn "run this suite" into jobs.
public struct PlanRequest: Sendable {
    /// Paths given to pytest; empty means pytest's own default (testpaths or the current folder).
    public var paths: [String]
    /// Arguments passed to every pytest (after `--`).
    public var pytestArgs: [String]
    public var mode: SplitMode
    /// Workers the jobs are balanced for.
    public var workers: Int
    public var shard: ShardSpec?
    /// Per-test seconds from a durations file: the only input to static shards besides the tests.
    public var durationsFile: [String: Double]
    /// Per-test seconds from this database's earlier runs: sizes jobs, never shards.
    public var history: [String: Double]
    /// The folder pytest runs in.
    public var directory: String
    public var python: PythonInterpreter

    public init(paths: [String] = [], pytestArgs: [String] = [], mode: SplitMode = .automatic, workers: Int = 1,
                shard: ShardSpec? = nil, durationsFile: [String: Double] = [:], history: [String: Double] = [:],
                directory: String = FileManager.default.currentDirectoryPath, python: PythonInterpreter = .init()) {
        self.paths = paths
        self.pytestArgs = pytestArgs
        self.mode = mode
        self.workers = workers
        self.shard = shard
        self.durationsFile = durationsFile
        self.history = history
        self.directory = directory
        self.python = python
    }
}
