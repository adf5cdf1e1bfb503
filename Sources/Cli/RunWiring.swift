import Foundation
import Queue
import Reports
import Runner
import Worker

/// Wires a run's settings (stored, and overridden by the options given) to a
/// ``RunExecution`` and prints how the run ended. Used by `run`, `run --resume` and `rerun`.
struct RunWiring {
    var database: DatabaseOptions
    /// The settings the run continues with.
    var settings: RunSettings
    /// The interpreter (a machine's own, so never stored with the run).
    var python: PythonOptions
    /// Dead workers replaced before the run stops (`--max-worker-restart`; nil: 4 × workers).
    var maxWorkerRestarts: Int?

    /// The run's life, with workers hosted as the settings say.
    func execution(run: RunID, queue: any RunStore) throws -> RunExecution {
        let configuration = try settings.workerConfiguration(python: python.interpreter,
                                                             logDirectory: database.logDirectory(run: run))
        let hosting: WorkerHosting
        if settings.workerProcesses == true {
            var arguments = ["work", "--db", database.path, "--run", String(run),
                             "--lock-timeout", String(database.lockTimeout)] + settings.workerArguments
            if let python = python.python { arguments += ["--python", python] }
            hosting = .processes(WorkerProcesses(arguments: arguments))
        } else {
            hosting = .tasks(configuration)
        }
        return RunExecution(hosting: hosting, retries: settings.retries ?? 0, failOnFlaky: settings.failOnFlaky ?? false,
                            maxWorkerRestarts: maxWorkerRestarts, observer: ProgressObserver(queue: queue))
    }

    /// Runs `target` to its end, prints its failures and summary, returns pytest's exit code.
    static func finish(_ execution: RunExecution, target: Run, queue: any RunStore, workers: Int,
                       control: WorkerControl, trap: SignalTrap,
                       planning: (@Sendable () async throws -> Void)? = nil) async throws -> Int32 {
        let ending = try await execution.execute(target, queue: queue, workers: workers, control: control,
                                                 interrupted: { trap.interrupted }, planning: planning)
        if !ending.failures.isEmpty {
            Console.print("failures:")
            for failure in ending.failures {
                Console.print("  \(failure.outcome.rawValue.uppercased()) \(failure.nodeid)"
                              + (failure.message.map { " - \($0.prefix(200))" } ?? ""))
            }
        }
        if let stop = ending.stop, let message = Failure.describe(stop).0 {
            FileHandle.standardError.write(Data("arun: \(message)\n".utf8))
        }
        Console.print("run \(target.id): \(ending.summary.line)")
        if ending.unfinished || ending.uncollectedFiles > 0 {
            let pending = ending.summary.pending
            let rest = [pending > 0 ? "\(pending) tests pending" : nil,
                        ending.uncollectedFiles > 0 ? "\(ending.uncollectedFiles) test files not collected yet" : nil]
                .compactMap { $0 }
            Console.print("unfinished\(rest.isEmpty ? "" : " (\(rest.joined(separator: ", ")))"): "
                          + "finish it with `arun run --resume \(target.id)`")
        }
        return ending.exitCode
    }
}

/// Shows a run's progress round by round.
final class ProgressObserver: RunObserver, @unchecked Sendable {
    private let queue: any RunStore
    private let lock = NSLock()
    private var printer: ProgressPrinter?

    init(queue: any RunStore) {
        self.queue = queue
    }

    func roundStarted(run: RunID, workers: Int) async {
        let printer = ProgressPrinter(queue: queue, run: run, workers: workers)
        lock.withLock { self.printer = printer }
        printer.start()
    }

    func roundEnded() async {
        let printer = lock.withLock { () -> ProgressPrinter? in
            defer { self.printer = nil }
            return self.printer
        }
        await printer?.stop()
    }

    func retrying(round: Int, of rounds: Int, tests: Int) {
        Console.print("retry \(round) of \(rounds): \(tests) failing tests run again")
    }
}
