import Foundation
import Queue

/// Read-side checks and the write-side requirements reports rely on.
extension QueueConformance {
    /// A run of four tests: a pass, a fail, a fail-then-pass (flaky), and one never run.
    static func recordedRun(_ queue: any RunStore, clock: ConformanceClock)
        async throws -> (run: Run, claim: Claim, tests: [JobTest]) {
        let run = try await queue.createRun(NewRun(name: "read", directory: "/suite", paths: ["tests"],
                                                   settings: RunSettings(mode: "auto", workers: 2, testTimeout: 5)))
        try await queue.registerWorker(id: "w", run: run.id, host: "h", pid: 1)
        let nodeids = ["t.py::a", "t.py::b", "t.py::c", "t.py::d"]
        try await queue.enqueue([NewJob(name: "j", tests: nodeids.map { NewTest(nodeid: $0, file: "t.py") })],
                                into: run.id)
        let claim = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 60))
        let tests = try await queue.pendingTests(of: claim)
        clock.advance(1)
        let now = clock.now
        try check(try await queue.record([
            TestResult(testID: tests[0].testID, attempt: 1, outcome: .passed, duration: 0.5, startedAt: now - 1,
                       finishedAt: now),
            TestResult(testID: tests[1].testID, attempt: 1, outcome: .failed, duration: 0.25, finishedAt: now,
                       message: "assert 1 == 2", details: "trace"),
            TestResult(testID: tests[2].testID, attempt: 1, outcome: .error, duration: 0.1, finishedAt: now,
                       message: "fixture"),
        ], for: claim, worker: "w"))
        try check(try await queue.complete(claim))
        return (run, claim, tests)
    }

    /// Tests come in node id order with every attempt; the final attempt is the highest.
    static func readsTestsJobsWorkersAndSpan(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let (run, _, _) = try await recordedRun(queue, clock: clock)
        try check(try await queue.retryFailures(run: run.id) == 2, "two final attempts fail")
        let retry = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 60))
        let again = try await queue.pendingTests(of: retry)
        try check(again.map(\.nodeid) == ["t.py::b", "t.py::c"] && again.allSatisfy { $0.attempt == 2 })
        clock.advance(1)
        try check(try await queue.record([
            TestResult(testID: again[0].testID, attempt: 2, outcome: .failed, duration: 0.3, finishedAt: clock.now),
            TestResult(testID: again[1].testID, attempt: 2, outcome: .passed, duration: 0.2, finishedAt: clock.now,
                       extra: #"{"teardown_error":true}"#),
        ], for: retry, worker: "w"))
        try check(try await queue.complete(retry))
        try await queue.stopWorker(id: "w")

        let tests = try await queue.tests(run: run.id, output: false)
        try check(tests.map(\.nodeid) == ["t.py::a", "t.py::b", "t.py::c", "t.py::d"], "\(tests.map(\.nodeid))")
        try check(tests.map { $0.attempts.count } == [1, 2, 2, 0])
        try check(tests.map { $0.final?.outcome } == [.passed, .failed, .passed, nil])
        try check(tests[2].flaky && !tests[1].flaky && !tests[0].flaky, "fail then pass is flaky")
        try check(tests[1].attempts[0].details == "trace" && tests[1].attempts[0].message == "assert 1 == 2")
        try check(tests[2].final?.extra?.teardownError == true, "typed extras")
        try check(tests[0].final?.worker == "w" && tests[0].final?.job != nil)

        let jobs = try await queue.jobs(run: run.id)
        try check(jobs.count == 2 && jobs.allSatisfy { $0.state == .done && $0.worker == "w" }, "\(jobs)")
        let workers = try await queue.workers(run: run.id)
        try check(workers.map(\.id) == ["w"] && workers[0].endedAt != nil)
        let span = try await queue.span(run: run.id)
        try check(span.start != nil && span.seconds >= 2 - 1e-9, "\(span)")
        let progress = try await queue.progress(run: run.id)
        try check(progress == ProgressCounts(tests: 4, done: 3, passed: 2, failed: 1), "\(progress)")
        let failures = try await queue.failures(run: run.id, since: 0, limit: 10)
        try check(failures.map(\.nodeid) == ["t.py::b"] && failures[0].attempt == 2, "final attempts only: \(failures)")
        try check(try await queue.failureCount(run: run.id) == 3, "every failing attempt")
    }

    /// `runOrLatest`, run ids, settings round trip, status changes and deletion.
    static func runsStatusAndDeletion(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        do {
            _ = try await queue.runOrLatest(nil)
            try check(false, "an empty store has no latest run")
        } catch let error as QueueError {
            guard case .noRuns = error else { throw error }
        }
        let first = try await queue.createRun(NewRun(settings: RunSettings(shard: RunSettings.Shard(index: 1, count: 3))))
        let second = try await queue.createRun(NewRun(name: "two"))
        try check(try await queue.runIDs() == [second.id, first.id])
        try check(try await queue.runOrLatest(nil).id == second.id)
        try check(try await queue.runOrLatest(first.id).settings.shard == RunSettings.Shard(index: 1, count: 3))
        try await queue.setStatus(.running, of: first.id)
        let started = try await queue.run(first.id)
        try check(started.status == .running && started.startedAt == clock.now)
        clock.advance(5)
        try await queue.setStatus(.complete, of: first.id)
        let finished = try await queue.run(first.id)
        try check(finished.status == .complete && finished.startedAt == started.startedAt && finished.finishedAt != nil)
        try await queue.deleteRun(second.id)
        try check(try await queue.runIDs() == [first.id])
        do {
            _ = try await queue.runOrLatest(second.id)
            try check(false, "a deleted run is gone")
        } catch let error as QueueError {
            try check(error == .unknownRun(second.id), "\(error)")
        }
    }

    /// A stopped run's cancelled jobs record `not_run` once for their tests without a result.
    static func markNotRunFillsCancelledJobs(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue([NewJob(name: "a", estimatedSeconds: 2, tests: [NewTest(nodeid: "a::1")]),
                                 NewJob(name: "b", estimatedSeconds: 1, tests: [NewTest(nodeid: "b::1"), NewTest(nodeid: "b::2")])],
                                into: run.id)
        let claim = try unwrap(try await queue.claim(run: run.id, worker: "w", lease: 60))
        let tests = try await queue.pendingTests(of: claim)
        try check(try await queue.record([TestResult(testID: tests[0].testID, attempt: 1, outcome: .failed)],
                                         for: claim, worker: "w"))
        try check(try await queue.complete(claim))
        try check(try await queue.cancel(run: run.id) == 1)
        try check(try await queue.markNotRun(run: run.id) == 2)
        try check(try await queue.markNotRun(run: run.id) == 0, "once")
        let outcomes = try await queue.tests(run: run.id, output: false).map { $0.final?.outcome }
        try check(outcomes == [.failed, .notRun, .notRun], "\(outcomes)")
    }

    /// The same collection error location is stored once.
    static func collectionErrorsAreKeptOnce(_ make: Factory) async throws {
        let queue = try await make(ConformanceClock())
        let run = try await queue.createRun(NewRun(collectionErrors: [CollectionProblem(location: "a.py", message: "x")]))
        try await queue.addCollectionErrors([CollectionProblem(location: "b.py", message: "ImportError")], run: run.id)
        try await queue.addCollectionErrors([CollectionProblem(location: "b.py", message: "ImportError"),
                                             CollectionProblem(location: "a.py", message: "x")], run: run.id)
        try check(try await queue.collectionErrors(run: run.id).map(\.location) == ["a.py", "b.py"])
    }

    /// History across runs, node id hints, measured and imported durations.
    static func historyAndDurations(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let (first, _, _) = try await recordedRun(queue, clock: clock)
        let (second, _, _) = try await recordedRun(queue, clock: clock)
        let history = try await queue.history(nodeid: "t.py::b", limit: 10)
        try check(history.map(\.run) == [second.id, first.id], "newest first")
        try check(history[0].attempts.map(\.outcome) == [.failed] && history[0].attempts[0].message == "assert 1 == 2")
        try check(try await queue.history(nodeid: "t.py::b", limit: 1).count == 1)
        try check(try await queue.history(nodeid: "nope", limit: 10).isEmpty)
        try check(try await queue.nodeIDs(containing: "py::", limit: 2) == ["t.py::a", "t.py::b"])
        try check(try await queue.nodeIDs(containing: "%", limit: 2).isEmpty, "LIKE wildcards are data")
        let measured = try await queue.measuredDurations(runs: nil)
        try check(measured == ["t.py::a": 0.5, "t.py::b": 0.25, "t.py::c": 0.1], "\(measured)")
        try check(try await queue.measuredDurations(runs: 1) == measured)
        try await queue.storeImportedDurations(["t.py::z": 3, "t.py::a": 9], now: clock.now)
        try await queue.storeImportedDurations(["t.py::z": 4], now: clock.now)
        try check(try await queue.importedDurations() == ["t.py::z": 4, "t.py::a": 9])
    }

    /// The read-side checks, by name.
    static let readChecks: [(String, @Sendable (@escaping Factory) async throws -> Void)] = [
        ("readsTestsJobsWorkersAndSpan", readsTestsJobsWorkersAndSpan),
        ("runsStatusAndDeletion", runsStatusAndDeletion),
        ("markNotRunFillsCancelledJobs", markNotRunFillsCancelledJobs),
        ("collectionErrorsAreKeptOnce", collectionErrorsAreKeptOnce),
        ("historyAndDurations", historyAndDurations),
    ]
}
