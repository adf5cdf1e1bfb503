import Foundation

/// Whether a process of this host still lives, from /proc: arun knows its own workers'
/// pids and start times, so a dead one's jobs can be taken back without waiting for
/// their leases.
public enum LocalProcess {
    /// True while `pid` runs and is the process that registered at `registeredAt` (a pid
    /// reused by a later process does not count); a zombie counts as dead.
    public static func isAlive(pid: Int32, registeredAt: Double) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno != EPERM { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state, fields[19] the start time in clock ticks since boot.
        guard fields.count > 19 else { return true }
        if fields[0] == "Z" || fields[0] == "X" { return false }
        if let ticks = Double(fields[19]), let boot = bootTime {
            let started = boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
            return started <= registeredAt + 2
        }
        return true
    }

    /// Unix seconds of the boot, from /proc/stat's `btime`.
    static let bootTime: Double? = {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }()

    public static var hostName: String { ProcessInfo.processInfo.hostName }
}
