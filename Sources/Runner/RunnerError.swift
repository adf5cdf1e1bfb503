/// Why a run's life ended before its summary.
public enum RunnerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An `arun work` child exited with an error it printed itself.
    case workerProcessFailed(status: Int32)
    /// A setting out of range; the message names the flag and its limit.
    case badSetting(String)

    public var description: String {
        switch self {
        case .workerProcessFailed(let status):
            "a worker process exited with status \(status); its error is printed above"
        case .badSetting(let message):
            message
        }
    }

    /// A child's usage error stays a usage error; anything else is internal.
    public var exitCode: Int32 {
        switch self {
        case .workerProcessFailed(let status): status == 4 ? 4 : 3
        case .badSetting: 4
        }
    }
}
