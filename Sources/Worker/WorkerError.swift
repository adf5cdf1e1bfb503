import Foundation

/// Failures that stop a worker, with what to do about them.
public enum WorkerError: Error, Sendable, CustomStringConvertible {
    /// pytest exited before it could take jobs: bad arguments, a broken conftest, a missing plugin.
    case pytestDidNotStart(status: String, output: String, log: String)
    /// More workers died than `--max-worker-restart` allows replacing.
    case restartLimit(deaths: Int, limit: Int, last: String)
    /// pytest stopped where serial pytest stops too: an error raised out of its hooks
    /// while a job collected (a plugin's hook, a warning made an error by filterwarnings).
    case pytestRefused(status: Int32, message: String, log: String)

    public var description: String {
        switch self {
        case let .pytestDidNotStart(status, output, log):
            let last = output.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            return "pytest could not start (\(status)): \(last.map(String.init) ?? "no output"); "
                + "fix the pytest arguments or conftest, full output in \(log)"
        case let .restartLimit(deaths, limit, last):
            return "stopped: \(deaths) workers died, more than --max-worker-restart \(limit) allows replacing "
                + "(the last: \(last)); find what kills them, then `arun run --resume` (or raise --max-worker-restart)"
        case let .pytestRefused(_, message, log):
            // pytest's own last INTERNALERROR line first, as `pytest` would end.
            let last = message.split(separator: "\n").last.map(String.init) ?? "INTERNALERROR"
            return "\(last) (pytest stopped with an internal error while collecting, as serial pytest does; "
                + "nothing more runs, full output in \(log))"
        }
    }

    /// pytest was killed by a signal before it was ready (the OOM killer, a `kill -9`):
    /// a fault of the moment, worth another start, not a broken configuration.
    public var killedWhileStarting: Bool {
        if case let .pytestDidNotStart(status, _, _) = self { return status.hasPrefix("killed by signal") }
        return false
    }

    /// pytest's own usage error (4) stays 4; anything else is internal (3).
    public var exitCode: Int32 {
        switch self {
        case let .pytestDidNotStart(status, _, _): status == "exit code 4" ? 4 : 3
        case .restartLimit: 2
        case let .pytestRefused(status, _, _): status
        }
    }
}
