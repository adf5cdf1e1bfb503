import Foundation
import Pytest
import Queue
import Subprocess
import SystemPackage

/// A worker: claims jobs of one run and runs them in a long-lived pytest process,
/// recording every test's outcome as it arrives. One pytest process serves job
/// after job (each collecting only its own tests) until it dies or the run is drained,
/// so the ~0.6 s pytest start-up is paid per process, not per job.
public final class Worker: Sendable {
    public let id: String
    let queue: any JobQueue
    let run: Run
    let configuration: WorkerConfiguration
    let control: WorkerControl
    let invocation: PytestInvocation

    public init(id: String, queue: any JobQueue, run: Run, configuration: WorkerConfiguration, control: WorkerControl) {
        self.id = id
        self.queue = queue
        self.run = run
        self.configuration = configuration
        self.control = control
        invocation = PytestInvocation(python: configuration.python, directory: run.directory, paths: run.paths,
                                      pytestArgs: run.pytestArgs)
    }

    var now: Double { Date().timeIntervalSince1970 }

    /// Runs jobs until the run has none open or a stop is requested.
    public func work() async throws {
        try FileManager.default.createDirectory(at: configuration.logDirectory, withIntermediateDirectories: true)
        try await queue.registerWorker(id: id, run: run.id, host: ProcessInfo.processInfo.hostName, pid: getpid())
        do {
            // Each session is one pytest process; a new one starts only after a crash
            // or a kill left work behind, or after a kill during start-up (three in a row at most).
            var killedStarting = 0
            while true {
                do {
                    guard try await session() else { break }
                    killedStarting = 0
                } catch let error as WorkerError where error.killedWhileStarting && killedStarting < 3 {
                    killedStarting += 1
                }
            }
        } catch {
            // Its job goes back at once (no lease to wait for); briefly, as the error may be a lock.
            if let queue = queue as? SQLiteQueue {
                _ = try? await LockPatience.$seconds.withValue(1) {
                    try await queue.releaseJobs(ofWorkers: [id], reason: "worker \(id) stopped: \(error)")
                }
            }
            try? await LockPatience.$seconds.withValue(1) { try await queue.stopWorker(id: id) }
            throw error
        }
        try await queue.stopWorker(id: id)
        // Drained, not stopped: if that was the last job, the run is complete, whoever
        // started this worker (`arun run`, or `arun work` on another terminal or host).
        if !control.isStopping { try await queue.completeIfDrained(run: run.id) }
    }

    /// The next job. While other workers still hold jobs, waits: a crash may requeue
    /// the rest of their job, and a dead worker's lease expires and comes back.
    func claimNext() async throws -> Claim? {
        while !control.isStopping {
            // A worker started early, while planning, beyond the plan's job count.
            guard control.mayClaim(id) else { return nil }
            if let claim = try await queue.claim(run: run.id, worker: id, lease: configuration.lease) {
                if control.isStopping || !control.seat(id) {
                    try await queue.release(claim)
                    return nil
                }
                return claim
            }
            try await queue.reclaimExpired()
            // The status first: planning writes the jobs, then marks the run running, so a
            // run seen running already shows its jobs. Counting first could see no jobs
            // yet and then the run running, and leave with the plan's jobs unclaimed.
            if try await !isBeingPlanned(), try await queue.counts(run: run.id).open == 0 { return nil }
            try await queue.waitForWork(run: run.id, upTo: 0.25)
        }
        return nil
    }

    /// A run that is still `planned` and has no jobs is being planned right now: its
    /// workers started their pytest early and wait for the first jobs. A planner that
    /// died long ago leaves such a run behind, so the wait has an end.
    func isBeingPlanned() async throws -> Bool {
        let current = try await queue.run(run.id)
        return current.status == .planned && now - current.createdAt < 600
    }

    /// How a pytest process's life ended, as seen from inside it.
    enum SessionEnd {
        /// No claimable job was left; pytest was told to quit.
        case drained
        /// pytest never said it was ready.
        case didNotStart
        /// The process ended (crash, kill, stop) with a job in flight.
        case ended(InFlight)
    }

    /// Starts one pytest process, then claims and feeds it jobs until the run is drained,
    /// the process dies, or a stop is requested; then settles the job that was in flight.
    /// pytest starts before the first claim, so its start-up overlaps planning and the
    /// claims of other workers. Returns true when another session should follow.
    func session() async throws -> Bool {
        let log = configuration.logDirectory.appending(path: "\(id).log")
        let descriptor = try FileDescriptor.open(
            FilePath(log.path), .writeOnly, options: [.create, .append, .closeOnExec], permissions: .ownerReadWrite)
        let state = SessionState()
        let config = try invocation.configuration(modeArguments: [], environment: ["ARUN_SERVE": "1"])
        let outcome = try await Subprocess.run(
            config, input: .inputWriter, output: .sequence,
            error: .fileDescriptor(descriptor, closeAfterSpawningProcess: true)
        ) { execution -> SessionEnd in
            let group = execution.processIdentifier.value
            control.register(group: group)
            state.groupID.withLock { $0 = group }
            defer { control.unregister(group: group) }
            let watchdog = Task { await self.watch(state, group: group) }
            defer { watchdog.cancel() }
            var reader = EventReader(execution.standardOutput)
            guard let ready = await reader.next(), ready.ev == .ready else { return .didNotStart }
            let writer = execution.standardInputWriter
            guard var claim = try await claimNext() else {
                try? await writer.finish()
                return .drained
            }
            while true {
                let job = try await self.execute(claim, reader: &reader, writer: writer, state: state)
                if let inFlight = job { return .ended(inFlight) }
                if control.isStopping {
                    try await queue.complete(claim)
                    try? await writer.finish()
                    return .drained
                }
                let handover = try await queue.completeAndClaim(claim, followUps: [], lease: configuration.lease)
                // Nothing claimable now; wait while others hold jobs (a crash may requeue some).
                let waited = handover.next == nil ? try await claimNext() : nil
                guard let next = handover.next ?? waited else {
                    try? await writer.finish()
                    return .drained
                }
                claim = next
            }
        }
        switch outcome.closureResult {
        case .drained:
            return false
        case .didNotStart where control.isStopping:
            return false  // a stop (Ctrl-C, SIGTERM, -x elsewhere) came while pytest started
        case .didNotStart:
            // Stopped while starting (-x elsewhere, Ctrl-C): the stop killed it, not its arguments.
            if control.isStopping { return false }
            let status = Self.describe(outcome.terminationStatus)
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw WorkerError.pytestDidNotStart(status: status, output: String(output.suffix(4000)), log: log.path)
        case let .ended(inFlight):
            try await settle(inFlight, status: outcome.terminationStatus, kill: state.kill, process: state.group)
            return !control.isStopping
        }
    }

    static func describe(_ status: TerminationStatus) -> String {
        switch status {
        case let .exited(code): "exit code \(code)"
        case let .signaled(signal): "killed by signal \(signal)\(signalName(signal).map { " (\($0))" } ?? "")"
        }
    }

    public static func signalName(_ signal: Int32) -> String? {
        [SIGSEGV: "SIGSEGV", SIGKILL: "SIGKILL", SIGABRT: "SIGABRT", SIGTERM: "SIGTERM", SIGINT: "SIGINT",
         SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGILL: "SIGILL"][signal]
    }

    /// Heartbeats the job in flight, kills tests over the timeout, kills the process when
    /// the lease is lost, and turns a run cancelled elsewhere (fail-fast) into a stop.
    func watch(_ state: SessionState, group: Int32) async {
        var lastStatusCheck = now
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 100_000_000)
            let now = self.now
            if let claim = state.heartbeatDue(now: now, every: configuration.lease / 3) {
                if (try? await queue.heartbeat(claim, lease: configuration.lease)) == false,
                   state.markKilled(.lostLease) {
                    kill(-group, SIGKILL)
                }
            }
            if let test = state.overdue(now: now, timeout: configuration.testTimeout),
               state.markKilled(.timeout(nodeid: test.nodeid, seconds: now - test.since)) {
                kill(-group, SIGKILL)
            }
            if now - lastStatusCheck > 1 {
                lastStatusCheck = now
                if let current = try? await queue.run(run.id), current.status == .cancelled, !control.isStopping {
                    control.stop(.failFast)
                }
            }
        }
    }
}
