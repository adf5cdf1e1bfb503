import Foundation
import Pytest
import Queue
import Subprocess

/// A job whose pytest process ended before the job did.
struct InFlight: Sendable {
    var claim: Claim
    /// The tests the job still had when it started in this process.
    var tests: [JobTest]
    /// Tests with a result recorded by this process.
    var recorded: Set<TestID>
    /// The test that had started and not reported when the process ended.
    var running: (test: JobTest, since: Double)?
}

extension Worker {
    /// Runs one claimed job in the pytest process behind `reader`/`writer`, writing results
    /// in batches as they arrive. Returns nil when the job finished, or what was in flight
    /// when the process's event stream ended.
    func execute(_ claim: Claim, reader: inout EventReader, writer: StandardInputWriter,
                 state: SessionState) async throws -> InFlight? {
        var tests = try await queue.pendingTests(of: claim)
        // A job of whole files that no worker has collected yet: the plugin collects
        // them and tells us their tests; otherwise the job's own (remaining) tests run.
        let files = JobPayload.decode(claim.payload).files
        var collectsFiles = false
        if files != nil && tests.isEmpty { collectsFiles = try await queue.testCount(of: claim) == 0 }
        guard collectsFiles || !tests.isEmpty else { return nil }
        var byNodeid = Dictionary(tests.map { ($0.nodeid, $0) }, uniquingKeysWith: { first, _ in first })
        var control = JobControl(job: claim.jobID)
        if let maxFail = configuration.maxFail {
            // The failures the run may still take: the plugin stops the job where a
            // serial pytest would stop.
            let budget = maxFail - (try await queue.failureCount(run: run.id))
            guard budget > 0 else {
                // Reached elsewhere meanwhile: hand the job back first, so the stop
                // cancels it and its tests are counted as not run.
                try await queue.release(claim)
                try await stopFailFast()
                return nil
            }
            control.maxfail = budget
        }
        if collectsFiles, let files {
            control.files = files
        } else {
            let testsFile = configuration.logDirectory.appending(path: "\(id).tests.json")
            try JSONEncoder().encode(tests.map(\.nodeid)).write(to: testsFile)
            control.testsFile = testsFile.path
        }
        state.begin(claim, now: now)
        defer { state.end() }
        do {
            _ = try await writer.write(control.line)
        } catch {
            // pytest is gone (stopped or crashed between jobs): let `settle` judge by how it ended.
            return InFlight(claim: claim, tests: tests, recorded: [], running: nil)
        }

        var recorded = Set<TestID>()
        var batch = ResultBatch(count: configuration.flushCount, interval: configuration.flushInterval, now: now)
        var startedAt: [String: Double] = [:]
        // Results still to come once job_start has said how many tests run; at zero the
        // next line is job_done, and it is read at once.
        var awaiting = Int.max
        // pytest runs nothing after a collection error: the plugin ran none of this job,
        // and the run stops once it is done.
        var collectionStopsRun = false
        while let event = await reader.next(coalescing: awaiting > 0) {
            switch event.ev {
            case .jobStart:
                awaiting = event.collected ?? Int.max
                if case let .list(problems)? = event.errors, !problems.isEmpty {
                    try await queue.addCollectionErrors(problems, run: run.id)
                    collectionStopsRun = !run.pytestArgs.contains("--continue-on-collection-errors")
                }
                if collectsFiles, let items = event.items {
                    let found = items.map { NewTest(nodeid: $0.nodeid, file: $0.file, marks: $0.marks) }
                    guard let registered = try await queue.register(found, for: claim) else {
                        if state.markKilled(.lostLease), let group = state.group { kill(-group, SIGKILL) }
                        continue
                    }
                    tests = registered
                    byNodeid = Dictionary(tests.map { ($0.nodeid, $0) }, uniquingKeysWith: { first, _ in first })
                }
                let reason = Self.collectionProblem(event.errors)
                for nodeid in event.missing ?? [] {
                    guard let test = byNodeid[nodeid], recorded.insert(test.testID).inserted else { continue }
                    batch.append(ResultMapping.synthetic(
                        test, .error, message: "not found when its job collected it\(reason)", startedAt: nil, now: now))
                }
            case .start:
                guard let nodeid = event.nodeid else { continue }
                startedAt[nodeid] = now
                state.started(nodeid, at: now)
            case .result:
                awaiting -= 1
                guard let nodeid = event.nodeid, let test = byNodeid[nodeid] else { continue }
                state.finished()
                recorded.insert(test.testID)
                let result = ResultMapping.result(from: event, test: test,
                                                  startedAt: startedAt.removeValue(forKey: nodeid) ?? now, now: now)
                batch.append(result)
                // With -x/--maxfail a failure is written (and counted) at once.
                if configuration.maxFail != nil, result.outcome.isFailure {
                    try await flush(&batch, claim: claim, state: state)
                }
            case .refused:
                // Serial pytest would stop here too (INTERNALERROR): so does the run.
                _ = try await queue.release(claim)
                throw WorkerError.pytestRefused(status: event.status ?? 3, message: event.message ?? "",
                                                log: configuration.logDirectory.appending(path: "\(id).log").path)
            case .jobDone:
                let reason = event.stopped.map { "pytest stopped the job: \($0)" } ?? "pytest did not report this test"
                for test in tests where !recorded.contains(test.testID) {
                    batch.append(ResultMapping.synthetic(test, .notRun, message: "not run: \(reason)", startedAt: nil, now: now))
                }
                try await flush(&batch, claim: claim, state: state)
                // pytest stopped the job (the run's failure budget, or a collection
                // error, after which pytest runs nothing): stop the run.
                if collectionStopsRun || (configuration.maxFail != nil && event.stopped != nil) {
                    try await stopFailFast()
                }
                return nil
            default:
                continue
            }
            if batch.isDue(now: now) { try await flush(&batch, claim: claim, state: state) }
        }
        // The stream ended mid-job: keep what arrived, then let `settle` judge the rest.
        try await flush(&batch, claim: claim, state: state)
        let running = state.running.flatMap { running in byNodeid[running.nodeid].map { ($0, running.since) } }
        return InFlight(claim: claim, tests: tests, recorded: recorded, running: running)
    }

    /// Writes a batch; a claim that no longer holds means another worker owns the job now,
    /// so this process is killed rather than left to run tests nobody will record.
    func flush(_ batch: inout ResultBatch, claim: Claim, state: SessionState) async throws {
        var results = batch.take(now: now)
        guard !results.isEmpty, state.kill != .lostLease else { return }
        // Which pytest process ran them: reports tell order-dependent tests by it.
        if let process = state.group { for index in results.indices { results[index].process = process } }
        if try await !queue.record(results, for: claim, worker: id) {
            if state.markKilled(.lostLease), let group = state.group { kill(-group, SIGKILL) }
            return
        }
        if let maxFail = configuration.maxFail, results.contains(where: { $0.outcome.isFailure }),
           try await queue.failureCount(run: run.id) >= maxFail {
            try await stopFailFast()
        }
    }

    /// -x/--maxfail reached: no more claims anywhere (the run is cancelled, which
    /// workers of other processes see within a second), and this process's pytest stop.
    func stopFailFast() async throws {
        guard !control.isStopping else { return }
        try await queue.cancel(run: run.id)
        control.stop(.failFast)
    }

    /// Decides the fate of a job whose process ended early, from how it ended.
    func settle(_ job: InFlight, status: TerminationStatus, kill: SessionState.Kill?, process: Int32?) async throws {
        let now = self.now
        let described = Self.describe(status)
        let remaining = job.tests.filter { !job.recorded.contains($0.testID) && $0.testID != job.running?.test.testID }
        var results: [TestResult] = []
        var rest = remaining
        switch (kill, control.stopReason) {
        case (.lostLease?, _):
            return  // the job belongs to another worker now
        case (_, .interrupted?):
            try await queue.release(job.claim)  // results stay; the rest runs on resume
            return
        case (_, .failFast?):
            let unrun = (job.running.map { [$0.test] } ?? []) + remaining
            results = unrun.map {
                ResultMapping.synthetic($0, .notRun, message: "not run: stopped by --maxfail", startedAt: nil, now: now)
            }
            rest = []
        case let (.timeout(nodeid, seconds)?, _):
            if let running = job.running, running.test.nodeid == nodeid {
                results.append(ResultMapping.synthetic(
                    running.test, .timeout,
                    message: "timed out after \(Int(seconds.rounded())) s (--test-timeout \(configuration.testTimeout.map { "\($0)" } ?? "?")): its pytest process group was killed",
                    startedAt: running.since, now: now))
            }
        case (nil, nil):
            if let running = job.running {
                results.append(ResultMapping.synthetic(
                    running.test, .crashed, message: "pytest died while this test ran: \(described)",
                    startedAt: running.since, now: now))
            } else if job.recorded.isEmpty {
                // Died before any test of the job ran (an import or collection crash):
                // retry the whole job a few times, then record its tests as crashed.
                if job.claim.attempt < job.claim.maxAttempts {
                    try await queue.fail(job.claim, error: "pytest died before running a test: \(described)",
                                         retry: RetryPolicy(baseDelay: 0.5, maxDelay: 5))
                    return
                }
                results = remaining.map {
                    ResultMapping.synthetic($0, .crashed, message: "pytest died before running this test, \(job.claim.attempt) times: \(described)",
                                            startedAt: nil, now: now)
                }
                if job.tests.isEmpty, let files = JobPayload.decode(job.claim.payload).files {
                    // It died collecting the job's files: nothing else would ever say so.
                    try await queue.addCollectionErrors(files.map {
                        CollectionProblem(location: $0, message: "pytest died collecting this file, \(job.claim.attempt) times: \(described)")
                    }, run: job.claim.runID)
                }
                rest = []
            }
        }
        for index in results.indices { results[index].process = process }
        if !results.isEmpty { try await queue.record(results, for: job.claim, worker: id) }
        let followUps = rest.isEmpty ? [] : [
            NewJob(name: job.claim.name,
                   estimatedSeconds: job.claim.estimatedSeconds * Double(rest.count) / Double(max(1, job.tests.count)),
                   maxAttempts: job.claim.maxAttempts,
                   tests: rest.map { NewTest(nodeid: $0.nodeid, file: $0.file, attempt: $0.attempt) }),
        ]
        try await queue.complete(job.claim, followUps: followUps)
    }

    static func collectionProblem(_ errors: PluginEvent.Errors?) -> String {
        guard case let .list(list)? = errors, let first = list.first else { return "" }
        return ": \(first.location): \(first.message)"
    }
}

/// Results waiting to be written: flushed when full or old enough.
struct ResultBatch {
    private var results: [TestResult] = []
    private var oldest: Double
    let count: Int
    let interval: Double

    init(count: Int, interval: Double, now: Double) {
        self.count = count
        self.interval = interval
        oldest = now
    }

    mutating func append(_ result: TestResult) { results.append(result) }

    func isDue(now: Double) -> Bool {
        results.count >= count || (!results.isEmpty && now - oldest >= interval)
    }

    mutating func take(now: Double) -> [TestResult] {
        defer {
            results.removeAll(keepingCapacity: true)
            oldest = now
        }
        return results
    }
}
