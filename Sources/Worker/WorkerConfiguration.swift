import Foundation
import Pytest

/// Settings of a worker, with defaults that suit a laptop or a CI runner.
public struct WorkerConfiguration: Sendable {
    /// The Python that runs pytest.
    public var python: PythonInterpreter
    /// Seconds a claim lives without a heartbeat. Heartbeats come every third of it.
    public var lease: Double = 60
    /// Kill a test running longer than this (nil: no limit).
    public var testTimeout: Double?
    /// Stop claiming once this many test failures are recorded in the run (-x is 1).
    public var maxFail: Int?
    /// Results are written in batches: at most this many, or this many seconds apart.
    public var flushCount = 256
    public var flushInterval = 0.5
    /// Where each worker's pytest output (stderr) is kept.
    public var logDirectory: URL

    public init(python: PythonInterpreter, logDirectory: URL) {
        self.python = python
        self.logDirectory = logDirectory
    }
}
