import Foundation
import Queue
import Reports

/// Live progress of a run, read from the database once a second: on a terminal one
/// line that updates in place; otherwise (or with NO_COLOR) a plain line every 5 s.
/// Failures are printed as they are recorded.
final class ProgressPrinter: @unchecked Sendable {
    private let queue: any RunStore
    private let run: RunID
    private let workers: Int
    private let started = Date()
    private let live: Bool
    private var task: Task<Void, Never>?

    init(queue: any RunStore, run: RunID, workers: Int) {
        self.queue = queue
        self.run = run
        self.workers = workers
        live = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    func start() {
        task = Task { [self] in
            var lastFailure = started.timeIntervalSince1970
            var lastPlain = Date.distantPast
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                // Nothing to show while the run is still being planned.
                guard let progress = try? await RunProgress.load(run: run, from: queue), progress.tests > 0 else { continue }
                let failures = (try? await FailureLine.load(run: run, since: lastFailure, from: queue)) ?? []
                if let last = failures.last { lastFailure = last.finishedAt }
                if live, !failures.isEmpty { Console.print("\r\u{1B}[2K", terminator: "") }
                for failure in failures {
                    Console.print("\(failure.outcome.rawValue.uppercased()) \(failure.nodeid)"
                          + (failure.message.map { " - \($0.prefix(160))" } ?? ""))
                }
                if live {
                    Console.print("\r\u{1B}[2K" + line(progress), terminator: "")
                } else if Date().timeIntervalSince(lastPlain) >= 5 {
                    lastPlain = Date()
                    Console.print(line(progress))
                }
            }
        }
    }

    func stop() async {
        task?.cancel()
        await task?.value
        if live { Console.print("\r\u{1B}[2K", terminator: "") }
    }

    private func line(_ progress: RunProgress) -> String {
        let elapsed = Date().timeIntervalSince(started)
        var text = "[\(progress.done)/\(progress.tests)] \(progress.passed) passed, \(progress.failed) failed, "
            + "\(progress.runningJobs)/\(workers) workers busy, \(Int(elapsed)) s"
        if progress.done > 0 && progress.done < progress.tests {
            let eta = elapsed / Double(progress.done) * Double(progress.tests - progress.done)
            text += ", ~\(Int(eta)) s left"
        }
        return text
    }
}
