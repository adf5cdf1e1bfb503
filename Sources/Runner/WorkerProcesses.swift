import Foundation
import Worker

/// `--mp`: N `arun work` processes of this executable on the same database, supervised:
/// a stop is forwarded to them, a child killed by a signal leaves its jobs to the others.
public struct WorkerProcesses: Sendable {
    /// Arguments of each child (`work --db … --run …` and the worker options).
    public var arguments: [String]

    /// Set in the children's environment: they only work, and the parent prints
    /// progress and the summary.
    public static let childVariable = "ARUN_WORK_CHILD"

    public init(arguments: [String]) {
        self.arguments = arguments
    }

    func run(count: Int, control: WorkerControl) async throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let children = try (0..<count).map { _ in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging([Self.childVariable: "1"]) { $1 }
            try process.run()
            return process
        }
        // Forward a stop to the children (a terminal's Ctrl-C reaches them anyway).
        let forwarder = Task {
            while !Task.isCancelled {
                if control.isStopping {
                    for child in children where child.isRunning { kill(child.processIdentifier, SIGTERM) }
                    return
                }
                try? await Task.sleep(nanoseconds: 100_000_000)
            }
        }
        defer { forwarder.cancel() }
        var failed: [Int32] = []
        for child in children {
            while child.isRunning { try await Task.sleep(nanoseconds: 50_000_000) }
            if child.terminationReason == .uncaughtSignal {
                // Its leases expire and the other workers take its jobs over.
                FileHandle.standardError.write(Data(
                    "arun: warning: worker process \(child.processIdentifier) was killed by signal \(child.terminationStatus); its jobs go to the others\n".utf8))
            } else if child.terminationStatus != 0 && child.terminationStatus != 2 {
                failed.append(child.terminationStatus)
            }
        }
        if let worst = failed.first { throw RunnerError.workerProcessFailed(status: worst) }
    }
}
