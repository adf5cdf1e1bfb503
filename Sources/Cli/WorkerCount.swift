import ArgumentParser
import Foundation

/// `-n N|auto`: a number of workers from 1 to ``limit``, or the CPU count.
struct WorkerCount: ExpressibleByArgument {
    /// Nil for `auto`.
    var number: Int?

    /// Workers this machine is allowed: beyond it each pytest process gets a sliver of a
    /// core and memory runs out before the suite gets faster (150 workers for a
    /// 0.4 s suite took 88 s).
    static var limit: Int { max(64, 32 * cpuCount) }

    static var cpuCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// The number of workers: the number given, or the CPU count for `auto`.
    var resolved: Int { number ?? Self.cpuCount }

    init?(argument: String) {
        try? self.init(checking: argument)
    }

    init(checking argument: String) throws {
        if argument == "auto" {
            number = nil
            return
        }
        guard let number = Int(argument), number >= 1 else {
            throw ValidationError("-n takes a number of workers from 1 to \(Self.limit), or auto (the CPU count), not '\(argument)'")
        }
        guard number <= Self.limit else {
            throw ValidationError("-n \(number) is more workers than this machine can run: at most \(Self.limit) (32 per CPU core), or auto (\(Self.cpuCount))")
        }
        self.number = number
    }

    /// The `transform` of `-n` options: negative numbers reach it (`.unconditional`) and
    /// every refusal says what is allowed.
    static func parse(_ argument: String) throws -> WorkerCount { try WorkerCount(checking: argument) }
}
