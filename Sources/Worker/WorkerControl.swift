import Foundation
import Synchronization

/// Why workers stop before the queue is empty.
public enum StopReason: Sendable, Equatable {
    /// SIGINT/SIGTERM: unfinished jobs go back to the queue for a later resume.
    case interrupted
    /// `-x`/`--maxfail` reached: what did not run is recorded not-run.
    case failFast
}

/// Shared by the workers of one process: the stop request and the pytest process
/// groups to signal when it comes.
public final class WorkerControl: Sendable {
    private struct State {
        var reason: StopReason?
        var groups: Set<Int32> = []
    }

    private let state = Mutex(State())
    private let grace: Double

    /// `grace`: after SIGTERM, how long pytest may take to stop before SIGKILL.
    public init(grace: Double = 3) {
        self.grace = grace
    }

    public var stopReason: StopReason? { state.withLock { $0.reason } }
    public var isStopping: Bool { stopReason != nil }

    /// Asks every worker to stop: no new claims; running pytest groups get SIGTERM,
    /// then SIGKILL after the grace period. The first reason given wins.
    public func stop(_ reason: StopReason) {
        let groups = state.withLock { state -> Set<Int32> in
            if state.reason == nil { state.reason = reason }
            return state.groups
        }
        for group in groups { kill(-group, SIGTERM) }
        let grace = self.grace
        Thread.detachNewThread { [weak self] in
            Thread.sleep(forTimeInterval: grace)
            for group in self?.state.withLock({ $0.groups }) ?? [] { kill(-group, SIGKILL) }
        }
    }

    func register(group: Int32) {
        let stopping = state.withLock { state -> Bool in
            state.groups.insert(group)
            return state.reason != nil
        }
        if stopping { kill(-group, SIGTERM) }
    }

    func unregister(group: Int32) {
        _ = state.withLock { $0.groups.remove(group) }
    }
}
