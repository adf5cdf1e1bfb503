import Foundation
import GRDB
@testable import Queue
import Reports
import TestSupport

/// A clock the tests move by hand, so durations and timelines are exact.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Double

    init(_ start: Double = 1_700_000_000) { value = start }

    var now: Double { lock.withLock { value } }

    func advance(_ seconds: Double) { lock.withLock { value += seconds } }
}

/// One test's outcome as a fixture records it.
struct Outcomes {
    var nodeid: String
    var outcome: Outcome
    var duration: Double = 0.5
    var message: String? = nil
    var details: String? = nil
    var stdout: String? = nil
    var stderr: String? = nil
    var extra: String? = nil
    var sections: String? = nil

    init(_ nodeid: String, _ outcome: Outcome, duration: Double = 0.5, message: String? = nil, details: String? = nil,
         stdout: String? = nil, stderr: String? = nil, extra: String? = nil, sections: String? = nil) {
        self.nodeid = nodeid
        self.outcome = outcome
        self.duration = duration
        self.message = message
        self.details = details
        self.stdout = stdout
        self.stderr = stderr
        self.extra = extra
        self.sections = sections
    }
}

/// Writes runs through the queue's own API: createRun, enqueue, claim, record, complete.
struct RunWriter {
    let queue: SQLiteQueue
    let clock: ManualClock
    let run: Run

    static func open(_ path: String, clock: ManualClock = ManualClock()) throws -> (SQLiteQueue, ManualClock) {
        var configuration = SQLiteQueueConfiguration()
        configuration.clock = { clock.now }
        return (try SQLiteQueue(path: path, configuration: configuration), clock)
    }

    static func start(_ queue: SQLiteQueue, clock: ManualClock, name: String? = nil, paths: [String] = ["tests"],
                      directory: String = "/work/suite", settings: String = #"{"mode":"automatic","workers":"2"}"#,
                      collectionErrors: [CollectionProblem] = []) async throws -> RunWriter {
        let run = try await queue.createRun(NewRun(name: name, directory: directory, paths: paths, pytestArgs: [],
                                                   settings: RunSettings(json: settings), collectionErrors: collectionErrors))
        try await queue.setStatus(.running, of: run.id)
        return RunWriter(queue: queue, clock: clock, run: run)
    }

    /// Enqueues one job holding `results`' tests (at `attempt`), lets `worker` claim it,
    /// records every result one after the other and completes it.
    @discardableResult
    func job(_ name: String, worker: String, attempt: Int = 1, _ results: [Outcomes]) async throws -> JobID {
        let tests = results.map { NewTest(nodeid: $0.nodeid, file: String($0.nodeid.split(separator: ":").first ?? ""),
                                          attempt: attempt) }
        try await queue.enqueue([NewJob(name: name, estimatedSeconds: 1, tests: tests)], into: run.id)
        guard let claim = try await queue.claim(run: run.id, worker: worker, lease: 600) else {
            throw FixtureError("nothing to claim for \(name)")
        }
        clock.advance(0.25)  // pytest start-up
        let pending = try await queue.pendingTests(of: claim)
        var records: [TestResult] = []
        for (test, result) in zip(pending, results) {
            let started = clock.now
            clock.advance(result.duration)
            records.append(TestResult(testID: test.testID, attempt: test.attempt, outcome: result.outcome,
                                      duration: result.duration, startedAt: started, finishedAt: clock.now,
                                      message: result.message, details: result.details, stdout: result.stdout,
                                      stderr: result.stderr, extra: result.extra, sections: result.sections))
        }
        try await queue.record(records, for: claim, worker: worker)
        clock.advance(0.05)
        try await queue.complete(claim)
        return claim.jobID
    }

    /// Enqueues a job nobody claims: its tests stay pending.
    func unclaimed(_ name: String, _ nodeids: [String]) async throws {
        try await queue.enqueue([NewJob(name: name, tests: nodeids.map { NewTest(nodeid: $0, file: "tests/test_late.py") })],
                                into: run.id)
    }

    func worker(_ id: String) async throws {
        try await queue.registerWorker(id: id, run: run.id, host: "host", pid: 1)
    }

    func finish(_ status: RunStatus = .complete, workers: [String] = []) async throws {
        for worker in workers { try await queue.stopWorker(id: worker) }
        try await queue.setStatus(status, of: run.id)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Fixture runs shared by the tests.
enum Fixtures {
    static let hostile = "<script>alert('pwned')</script>"

    /// A run with every outcome kind, a flaky test, a test still failing after a retry,
    /// control characters and ANSI colours in the output, and two workers.
    static func everyOutcome(in folder: TemporaryFolder, file: String = "every.db",
                             pending: Bool = false) async throws -> (SQLiteQueue, RunWriter) {
        let (queue, clock) = try RunWriter.open(folder.file(file))
        let writer = try await RunWriter.start(queue, clock: clock, name: "nightly")
        try await writer.worker("w1")
        try await writer.worker("w2")
        let traceback = """
            def test_fail():
            >       assert 1 == 2, "one is not two"
            E       AssertionError: one is not two\u{01}\u{1b}[31m red \u{1b}[0m
            tests/test_a.py:4: AssertionError
            """
        try await writer.job("tests/test_a.py", worker: "w1", [
            Outcomes("tests/test_a.py::test_pass", .passed, duration: 0.1, stdout: "hello from stdout\n"),
            Outcomes("tests/test_a.py::test_fail", .failed, duration: 0.2, message: "AssertionError: one is not two",
                     details: traceback, stdout: "captured \u{07}bell\n", extra: #"{"head":"test_fail"}"#,
                     sections: #"[["Captured stdout call","captured \u0007bell\n"],["Captured log call","WARNING  x:test_a.py:3 careful </pre><script>\n"]]"#),
            Outcomes("tests/test_a.py::test_error", .error, duration: 0.05, message: "RuntimeError: fixture exploded",
                     details: "E   RuntimeError: fixture exploded",
                     sections: #"[["Captured stdout setup","setting up\n"]]"#),
            Outcomes("tests/test_a.py::test_skip", .skipped, duration: 0, message: "not today",
                     extra: #"{"skip_location":"tests/test_a.py:12"}"#),
            Outcomes("tests/test_a.py::test_xfail", .xfailed, duration: 0.01, message: "known"),
            Outcomes("tests/test_a.py::test_xpass", .xpassed, duration: 0.01),
        ])
        try await writer.job("tests/test_b.py", worker: "w2", [
            Outcomes("tests/test_b.py::TestGroup::test_crash", .crashed, duration: 0.3,
                     message: "crashed: pytest died of SIGSEGV"),
            Outcomes("tests/test_b.py::TestGroup::test_hang", .timeout, duration: 3.0, message: "timeout after 3 s"),
            Outcomes("tests/test_b.py::test_flaky", .failed, duration: 0.4, message: "AssertionError: flaky once",
                     details: "E   AssertionError: flaky once"),
            Outcomes("tests/test_b.py::test_still_failing", .failed, duration: 0.6, message: "AssertionError: first",
                     details: "E   AssertionError: first"),
            Outcomes("tests/test_b.py::test_param[a|b-\(hostile)]", .failed, duration: 0.2,
                     message: "ValueError: \(hostile) <img src=x onerror=alert(1)>",
                     details: "E   ValueError: </pre>\(hostile)", stdout: "</system-out>\(hostile)"),
            Outcomes("tests/test_b.py::test_not_run", .notRun, duration: 0,
                     message: "not run: the run was stopped before this test"),
        ])
        // The retry round: the flaky test passes, the other fails again.
        try await writer.job("retry: tests/test_b.py", worker: "w1", attempt: 2, [
            Outcomes("tests/test_b.py::test_flaky", .passed, duration: 0.35),
            Outcomes("tests/test_b.py::test_still_failing", .failed, duration: 0.7, message: "AssertionError: second",
                     details: "E   AssertionError: second"),
        ])
        if pending { try await writer.unclaimed("late", ["tests/test_late.py::test_never"]) }
        try await writer.finish(pending ? .interrupted : .complete, workers: ["w1", "w2"])
        return (queue, writer)
    }

    static let everyOutcomeFinal: [String: String] = [
        "tests/test_a.py::test_pass": "passed",
        "tests/test_a.py::test_fail": "failed",
        "tests/test_a.py::test_error": "error",
        "tests/test_a.py::test_skip": "skipped",
        "tests/test_a.py::test_xfail": "xfailed",
        "tests/test_a.py::test_xpass": "xpassed",
        "tests/test_b.py::TestGroup::test_crash": "crashed",
        "tests/test_b.py::TestGroup::test_hang": "timeout",
        "tests/test_b.py::test_flaky": "passed",
        "tests/test_b.py::test_still_failing": "failed",
        "tests/test_b.py::test_param[a|b-\(hostile)]": "failed",
        "tests/test_b.py::test_not_run": "not_run",
    ]
}

/// The built `arun`, run against a database in a temporary folder.
struct Arun {
    let folder: TemporaryFolder

    init(_ folder: TemporaryFolder) { self.folder = folder }

    func run(_ arguments: [String], timeout: Double = 300) throws -> ProcessOutput {
        try ChildProcess.run(Executables.arun, arguments, directory: folder.path, timeout: timeout)
    }

    static var available: Bool { FileManager.default.isExecutableFile(atPath: Executables.arun) }
}

/// `xmllint`, when installed (`apt-get install libxml2-utils`).
enum XMLLint {
    static var path: String? {
        ["/usr/bin/xmllint", "/usr/local/bin/xmllint", "/opt/homebrew/bin/xmllint"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var schema: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "junit.xsd").path
    }

    /// The Jenkins xUnit plugin's schema (MIT, shipped unchanged): the plugin skips
    /// files that do not validate against it.
    static var xunitSchema: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "junit-10.xsd").path
    }

    /// Validates `file` against both schemas; the failures, empty when valid. Throws when
    /// xmllint is missing: `./scripts/test` installs it, and a skipped check proves nothing.
    static func problems(_ file: String) throws -> [String] {
        guard let xmllint = path else { throw FixtureError("xmllint is missing: apt-get install libxml2-utils") }
        return try [schema, xunitSchema].compactMap { xsd in
            let result = try ChildProcess.run(xmllint, ["--noout", "--schema", xsd, file])
            return result.status == 0 ? nil : "\((xsd as NSString).lastPathComponent): \(result.stderr)"
        }
    }
}
