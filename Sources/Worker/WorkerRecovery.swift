import Foundation
import Queue

/// Takes back the jobs of this host's dead workers at once and settles the runs they
/// left marked running: what the next arun to open the database does after a
/// `kill -9`, and what a supervisor does when one of its workers dies.
public enum WorkerRecovery {
    /// Returns how many jobs went back to the queue. A supervisor about to replace the
    /// dead worker does not `settle` its run.
    @discardableResult
    public static func recover(_ queue: any JobQueue, settle: Bool = true) async throws -> Int {
        // Only a SQLite file is this host's alone: on a shared PostgreSQL queue another
        // host's pids mean nothing here, and leases find the dead.
        guard let queue = queue as? SQLiteQueue else { return 0 }
        return try await recover(queue, settle: settle)
    }

    @discardableResult
    public static func recover(_ queue: SQLiteQueue, settle: Bool = true) async throws -> Int {
        let dead = try queue.activeWorkers(host: LocalProcess.hostName)
            .filter { !LocalProcess.isAlive(pid: $0.pid, registeredAt: $0.startedAt) }
        guard !dead.isEmpty else { return 0 }
        var released = 0
        for worker in dead {
            released += try await queue.releaseJobs(
                ofWorkers: [worker.id], reason: "worker \(worker.id) (pid \(worker.pid)) died")
        }
        if settle { try await queue.settleAbandoned(runs: dead.compactMap(\.run)) }
        return released
    }
}
