import Foundation
import Queue
import Synchronization

/// What one pytest process is doing right now, shared by the event reader and the
/// watchdog that heartbeats, enforces test timeouts and notices lost leases.
final class SessionState: Sendable {
    /// Why the watchdog ended the process, if it did.
    enum Kill: Sendable, Equatable {
        case timeout(nodeid: String, seconds: Double)
        case lostLease
    }

    private struct Fields {
        var claim: Claim?
        var lastHeartbeat = 0.0
        var runningTest: String?
        var runningSince = 0.0
        var kill: Kill?
    }

    private let fields = Mutex(Fields())
    /// The pytest process group, once started.
    let groupID = Mutex<Int32?>(nil)

    var group: Int32? { groupID.withLock { $0 } }

    func begin(_ claim: Claim, now: Double) {
        fields.withLock {
            $0.claim = claim
            $0.lastHeartbeat = now
            $0.runningTest = nil
        }
    }

    func end() {
        fields.withLock {
            $0.claim = nil
            $0.runningTest = nil
        }
    }

    func started(_ nodeid: String, at time: Double) {
        fields.withLock {
            $0.runningTest = nodeid
            $0.runningSince = time
        }
    }

    func finished() {
        fields.withLock { $0.runningTest = nil }
    }

    /// The test that started and has not reported, and since when.
    var running: (nodeid: String, since: Double)? {
        fields.withLock { state in state.runningTest.map { ($0, state.runningSince) } }
    }

    var kill: Kill? { fields.withLock { $0.kill } }

    /// Records the first reason to kill; returns false when one was already recorded.
    func markKilled(_ reason: Kill) -> Bool {
        fields.withLock { state in
            guard state.kill == nil else { return false }
            state.kill = reason
            return true
        }
    }

    /// The claim to heartbeat when one is due.
    func heartbeatDue(now: Double, every interval: Double) -> Claim? {
        fields.withLock { state in
            guard let claim = state.claim, now - state.lastHeartbeat >= interval else { return nil }
            state.lastHeartbeat = now
            return claim
        }
    }

    /// A test over the timeout, if any.
    func overdue(now: Double, timeout: Double?) -> (nodeid: String, since: Double)? {
        guard let timeout else { return nil }
        return fields.withLock { state in
            guard let test = state.runningTest, now - state.runningSince > timeout else { return nil }
            return (test, state.runningSince)
        }
    }
}
