import Foundation
import Queue
import Worker

/// `--mp`: N `arun work` processes of this executable on the same database, supervised.
/// A child that dies by a signal is replaced at once and its job taken back (its pid and
/// start time identify its workers), up to a limit of replacements; past that the run
/// stops (exit 2, resumable). Children die with this process (`--supervisor`), however it ends.
public struct WorkerProcesses: Sendable {
    /// Arguments of each child (`work --db … --run …` and the worker options).
    public var arguments: [String]

    /// Set in the children's environment: they only work, and the parent prints
    /// progress and the summary.
    public static let childVariable = "ARUN_WORK_CHILD"

    public init(arguments: [String]) {
        self.arguments = arguments
    }

    func run(count: Int, queue: any RunStore, control: WorkerControl, limit: Int) async throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let arguments = self.arguments + ["--supervisor", String(getpid())]
        let notices = ChildNotices()
        let spawn = { () throws -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging([Self.childVariable: "1"]) { $1 }
            notices.attach(to: process)
            try process.run()
            return process
        }
        var slots: [Process?] = try (0..<count).map { _ in try spawn() }
        var deaths = 0
        var forwarded = false
        var failure: (any Error)?
        while slots.contains(where: { $0 != nil }) {
            if control.isStopping && !forwarded {
                // A terminal's Ctrl-C reaches only this process: each child has its own group.
                forwarded = true
                for case let child? in slots where child.isRunning { kill(child.processIdentifier, SIGTERM) }
            }
            for index in slots.indices {
                guard let child = slots[index], !child.isRunning else { continue }
                slots[index] = nil
                guard child.terminationReason == .uncaughtSignal else {
                    switch child.terminationStatus {
                    case 0: break  // the run is drained
                    case 2:
                        // It stopped on its own (lock timeout, full disk) and said why: all stop.
                        if !control.isStopping { failure = failure ?? RunnerError.workerProcessStopped }
                        control.stop(.interrupted)
                    case let status:
                        failure = failure ?? RunnerError.workerProcessFailed(status: status)
                        control.stop(.interrupted)
                    }
                    continue
                }
                // Its workers (this host, its pid) are dead: their jobs go back now, not when leases expire.
                if let local = queue as? SQLiteQueue { _ = try? await WorkerRecovery.recover(local, settle: false) }
                if control.isStopping { continue }
                deaths += 1
                let signal = child.terminationStatus
                let what = "worker process \(child.processIdentifier) was killed by signal \(signal)"
                    + (Worker.signalName(signal).map { " (\($0))" } ?? "")
                if deaths > limit {
                    failure = WorkerError.restartLimit(deaths: deaths, limit: limit, last: what)
                    control.stop(.interrupted)
                    continue
                }
                let replacement = try spawn()
                slots[index] = replacement
                FileHandle.standardError.write(Data(
                    ("arun: \(what): its job went back to the queue; worker process \(replacement.processIdentifier) "
                     + "replaces it (restart \(deaths) of \(limit), --max-worker-restart)\n").utf8))
            }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        if let failure { throw failure }
    }
}
