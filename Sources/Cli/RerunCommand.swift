import ArgumentParser
import Foundation
import Queue
import Reports
import Runner
import Worker

/// `arun rerun --failed [ID]`: run a finished run's failing tests again, as their next
/// attempt, with workers exactly as `arun run --resume` runs them.
struct RerunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Run the failing tests of a run (default: the latest) again as their next attempt.",
        discussion: """
            A test that passes on the rerun counts as flaky (`arun report` lists it). Examples:
              arun rerun --failed
              arun rerun --failed 7 -n 4
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var python: PythonOptions
    @OptionGroup var options: WorkerOptions

    @Flag(help: "Rerun the tests whose latest attempt failed (failed, error, crashed, timeout).")
    var failed = false

    @Argument(help: "The run (default: the latest).") var id: Int64?
    @Option(help: "The run (default: the latest); the same as the positional id.") var run: Int64?

    @Option(name: .customShort("n"), parsing: .unconditional, help: "Workers: a number or auto (the CPU count).",
            transform: WorkerCount.parse)
    var workers: WorkerCount?

    @OptionGroup var mode: WorkerModeOptions
    @OptionGroup var colour: ColorOption

    func validate() throws {
        if !failed { throw ValidationError("rerun needs --failed (rerun the failing tests): arun rerun --failed [RUN]") }
        if let id, let run, id != run { throw ValidationError("give the run once: either RUN or --run") }
    }

    func run() async throws {
        colour.apply()
        let queue = try await database.open(verifying: true)  // quick_check before this adds to the file
        try await WorkerRecovery.recover(queue)
        let target = try await queue.runOrLatest(id ?? run)
        let retried = try await queue.retryFailures(run: target.id)
        if retried == 0 {
            let open = try await queue.counts(run: target.id).open
            Console.print("run \(target.id) has no failing tests to rerun"
                          + (open > 0 ? "; it is unfinished: finish it with `arun run --resume \(target.id)`" : ""))
            return
        }
        Console.print("run \(target.id): \(retried) failing test\(retried == 1 ? "" : "s") queued again as the next attempt")
        let control = WorkerControl()
        let trap = SignalTrap { control.stop(.interrupted) }
        // Continue as the run was started (its test timeout, lease, -x…); options given again win.
        var given = options.given
        given.workers = workers?.resolved
        given.workerProcesses = mode.given
        let settings = target.settings.overridden(by: given)
        let execution = try RunWiring(database: database, settings: settings, python: python,
                                      maxWorkerRestarts: mode.maxWorkerRestart)
            .execution(run: target.id, queue: queue)
        let code = try await RunWiring.finish(execution, target: target, queue: queue,
                                              workers: workers?.resolved ?? settings.workers ?? WorkerCount.cpuCount,
                                              control: control, trap: trap)
        if code != 0 { throw ExitCode(code) }
    }
}
