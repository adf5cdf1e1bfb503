import Foundation
import PostgresNIO
import Synchronization

/// `LISTEN arun_jobs` on a connection of its own, started by the first idle worker:
/// a notification carries a run id and wakes that run's waiting workers at once.
final class PostgresListener: Sendable {
    private struct Waiter {
        var run: RunID
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
        var task: Task<Void, Never>?
        var stopped = false
        /// When each run was last notified (a notification that arrives while a worker is
        /// between its empty claim and its wait must still count).
        var lastNotified: [RunID: Double] = [:]
    }

    private let connections: PostgresConnections
    private let state = Mutex(State())
    static let channel = "arun_jobs"

    init(connections: PostgresConnections) {
        self.connections = connections
    }

    /// Returns when the run is notified or after `seconds`.
    func wait(run: RunID, upTo seconds: Double) async {
        let recent = state.withLock { state -> Bool in
            if state.task == nil && !state.stopped { state.task = Task { await self.listen() } }
            return (state.lastNotified[run] ?? 0) > Date().timeIntervalSince1970 - 0.5
        }
        if recent {
            state.withLock { _ = $0.lastNotified.removeValue(forKey: run) }
            return
        }
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let timer = Task {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            self.resume { key, _ in key == id }
        }
        await withCheckedContinuation { continuation in
            let stopped = state.withLock { state -> Bool in
                if state.stopped { return true }
                state.waiters[id] = Waiter(run: run, continuation: continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
        timer.cancel()
    }

    func stop() {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.stopped = true
            return state.task
        }
        task?.cancel()
        resume { _, _ in true }
    }

    private func resume(where matches: (UInt64, Waiter) -> Bool) {
        let woken = state.withLock { state -> [Waiter] in
            let keys = state.waiters.filter { matches($0.key, $0.value) }.map(\.key)
            return keys.compactMap { state.waiters.removeValue(forKey: $0) }
        }
        for waiter in woken { waiter.continuation.resume() }
    }

    /// Listens until stopped; a broken connection is replaced after a pause (waiters
    /// meanwhile fall back on their timeouts).
    private func listen() async {
        while !Task.isCancelled {
            do {
                let connection = try await connections.connect()
                defer { PostgresConnections.drop(connection) }
                try await connection.listen(on: Self.channel) { notifications in
                    for try await notification in notifications {
                        guard let run = RunID(notification.payload) else { continue }
                        state.withLock { $0.lastNotified[run] = Date().timeIntervalSince1970 }
                        resume { _, waiter in waiter.run == run }
                    }
                }
            } catch {}
            try? await Task.sleep(nanoseconds: 500_000_000)
        }
    }
}

extension PostgresQueue {
    /// Waits on LISTEN/NOTIFY: new or requeued jobs, a run changing status, or the last
    /// jobs of a run finishing wake the run's idle workers. The wait still ends after a
    /// while so that idle workers reclaim expired leases, which nothing announces.
    public func waitForWork(run: RunID, upTo seconds: Double) async throws {
        await listener.wait(run: run, upTo: max(seconds, 2))
    }
}
