import Foundation
import Queue
import Synchronization

/// Says on the console why progress froze: another program holds the database's write
/// lock. One line when a wait begins, one every 15 s while it lasts, one when it ends;
/// the workers of a process share it, so a wait is told once, not once per worker.
final class LockNotice: Sendable {
    static let shared = LockNotice()

    private struct State {
        var waitingSince: Double?
        var lastLine = 0.0
    }

    private let state = Mutex(State())

    func report(_ wait: LockWait) {
        let now = Date().timeIntervalSince1970
        let line: String? = state.withLock { state in
            if wait.released {
                guard let since = state.waitingSince, wait.since <= since + 1 || wait.waited >= now - since - 1 else {
                    return nil
                }
                state.waitingSince = nil
                return "arun: got the database lock after \(Int(wait.waited.rounded())) s; going on"
            }
            let since = min(state.waitingSince ?? wait.since, wait.since)
            guard state.waitingSince == nil || now - state.lastLine >= 15 else { return nil }
            state.waitingSince = since
            state.lastLine = now
            return "arun: waiting for the database lock: another program has held a write transaction on "
                + "\(wait.path) since \(Self.clock(since)) (\(Int((now - since).rounded())) s); "
                + "stopping after \(Int(wait.limit.rounded())) s (--lock-timeout)"
        }
        if let line { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    static func clock(_ time: Double) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: time))
    }
}
