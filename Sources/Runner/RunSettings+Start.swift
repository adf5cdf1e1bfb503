import Foundation
import Planner
import Pytest
import Queue
import Worker

extension RunSettings {
    /// The one producer of a new run's settings (`enqueue` and `run`): how it is planned,
    /// from the request, and how it runs, from `execution` (the worker options given).
    public static func starting(_ request: PlanRequest, filePlanning: Bool, execution: RunSettings) -> RunSettings {
        var settings = execution
        settings.version = currentVersion
        settings.mode = request.mode.label
        settings.planning = filePlanning ? "files" : "tests"
        settings.workers = request.workers
        settings.shard = request.shard.map { Shard(index: $0.index, count: $0.count) }
        return settings
    }

    /// The default lease, in seconds.
    public static let defaultLease = 60.0

    /// Worker settings from these run settings, checked.
    public func workerConfiguration(python: PythonInterpreter, logDirectory: URL) throws -> WorkerConfiguration {
        let lease = self.lease ?? Self.defaultLease
        guard lease > 0 else { throw RunnerError.badSetting("--lease must be more than 0 seconds") }
        if let testTimeout, testTimeout <= 0 { throw RunnerError.badSetting("--test-timeout must be more than 0 seconds") }
        if let maxFail, maxFail < 1 { throw RunnerError.badSetting("--maxfail must be at least 1") }
        var configuration = WorkerConfiguration(python: python, logDirectory: logDirectory)
        configuration.lease = lease
        configuration.testTimeout = testTimeout
        configuration.maxFail = maxFail
        return configuration
    }

    /// The arguments that carry the worker settings to `arun work` children.
    public var workerArguments: [String] {
        var arguments = ["--lease", String(lease ?? Self.defaultLease)]
        if let testTimeout { arguments += ["--test-timeout", String(testTimeout)] }
        if let maxFail { arguments += ["--maxfail", String(maxFail)] }
        return arguments
    }
}
