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
    /// When the command began (its whole time counts in the run's).
    var startedAt = Date()

    /// The run's life, with workers hosted as the settings say.
    func execution(run: RunID, queue: any RunStore) throws -> RunExecution {
        let configuration = try settings.workerConfiguration(python: python.interpreter,
                                                             logDirectory: database.logDirectory(run: run))
        let hosting: WorkerHosting
        if settings.workerProcesses == true {
            var arguments = ["work"] + (try database.childArguments())
                + ["--run", String(run), "--lock-timeout", String(database.lockTimeout)] + settings.workerArguments
            if let python = python.python { arguments += ["--python", python] }
            hosting = .processes(WorkerProcesses(arguments: arguments))
        } else {
            hosting = .tasks(configuration)
        }
        return RunExecution(hosting: hosting, retries: settings.retries ?? 0, failOnFlaky: settings.failOnFlaky ?? false,
                            maxWorkerRestarts: maxWorkerRestarts, observer: ProgressObserver(queue: queue),
                            startedAt: startedAt)
    }

    /// Runs `target` to its end, prints its failures and summary, returns pytest's exit code.
    static func finish(_ execution: RunExecution, target: Run, queue: any RunStore, workers: Int,
                       control: WorkerControl, trap: SignalTrap,
                       planning: (@Sendable () async throws -> Int)? = nil) async throws -> Int32 {
        let ending = try await execution.execute(target, queue: queue, workers: workers, control: control,
                                                 interrupted: { trap.interrupted }, planning: planning)
        // pytest's order: collection errors, then failures; escaped as the text report is.
        for line in CollectionErrorText.blocks((try? await queue.collectionErrors(run: target.id)) ?? []) {
            Console.print(Painter.collectionErrorLine(line))
        }
        if !ending.failures.isEmpty {
            Console.print("failures:")
            for failure in ending.failures {
                Console.print("  \(Painter.outcomeWord(failure.outcome.rawValue.uppercased())) \(Escape.terminal(failure.nodeid))"
                              + (failure.message.map { " - \(Escape.terminal(String($0.prefix(200))))" } ?? ""))
            }
        }
        if let stop = ending.stop, let message = Failure.describe(stop).0 {
            FileHandle.standardError.write(Data("arun: \(message)\n".utf8))
        }
        Console.print("run \(target.id): \(Painter.totals(ending.summary.line))")
        if let note = ending.summary.unmatchedNote { Console.print(note) }
        if ending.unrunFiles > 0 {
            Console.print("\(ending.unrunFiles) test file\(ending.unrunFiles == 1 ? "" : "s") did not run "
                          + "(the run was stopped before they were collected)")
        }
        let pending = ending.summary.pending
        let rest = [pending > 0 ? "\(pending) tests pending" : nil,
                    ending.uncollectedFiles > 0 ? "\(ending.uncollectedFiles) test files not collected yet" : nil]
            .compactMap { $0 }
        let left = rest.isEmpty ? "" : " (\(rest.joined(separator: ", ")))"
        if ending.interrupted {
            Console.print("interrupted\(left): finish it with `arun run --resume \(target.id)`")
        } else if ending.unfinished || ending.uncollectedFiles > 0 {
            Console.print("unfinished\(left): finish it with `arun run --resume \(target.id)`")
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

    /// One printer for every round: with --retries a failure is printed once.
    func roundStarted(run: RunID, workers: Int) async {
        let printer = lock.withLock { () -> ProgressPrinter in
            if let printer = self.printer { return printer }
            let printer = ProgressPrinter(queue: queue, run: run, workers: workers)
            self.printer = printer
            return printer
        }
        printer.start(workers: workers)
    }

    func roundEnded() async {
        await lock.withLock { self.printer }?.stop()
    }

    func retrying(round: Int, of rounds: Int, tests: Int) {
        Console.print("retry \(round) of \(rounds): \(tests) failing tests run again")
    }
}
