/// Why a run's life ended before its summary.
public enum RunnerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An `arun work` child exited with an error it printed itself.
    case workerProcessFailed(status: Int32)
    /// An `arun work` child stopped on its own (lock timeout, full disk) and said why.
    case workerProcessStopped
    /// Ctrl-C or SIGTERM while planning (it may have reached the collecting pytest too).
    case interruptedWhilePlanning
    /// A setting out of range; the message names the flag and its limit.
    case badSetting(String)

    public var description: String {
        switch self {
        case .workerProcessFailed(let status):
            "a worker process exited with status \(status); its error is printed above"
        case .workerProcessStopped:
            "a worker process stopped the run; its reason is printed above; finish it with `arun run --resume`"
        case .interruptedWhilePlanning:
            "interrupted while planning: nothing ran and no run was kept; run the command again"
        case .badSetting(let message):
            message
        }
    }

    /// A child's usage error stays a usage error; anything else is internal.
    public var exitCode: Int32 {
        switch self {
        case .workerProcessFailed(let status): status == 4 ? 4 : 3
        case .workerProcessStopped: 2
        case .interruptedWhilePlanning: 2
        case .badSetting: 4
        }
    }
}
