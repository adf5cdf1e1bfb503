import ArgumentParser
import Foundation
import Planner
import Queue
import Reports
import Runner
import Worker

/// `arun run`: enqueue, work and summarise in one command.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Plan the suite, run it with N workers, print the summary.",
        discussion: """
            Examples:
              arun run tests/ -n 4
              arun run --mp --dist-mark "smoke regression"
              arun run --resume          (finish the latest run)
              arun run tests/ -- -p no:randomly --alluredir reports/json
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var plan: PlanOptions
    @OptionGroup var python: PythonOptions
    @OptionGroup(title: "pytest options (passed to every pytest, as after --)") var pytest: PytestOptions
    @OptionGroup var options: WorkerOptions

    @Option(name: .customShort("n"), parsing: .unconditional, help: "Workers: a number or auto (CPU count). Default: one per group with a dist mode, else the CPU count.",
            transform: WorkerCount.parse)
    var workers: WorkerCount?

    @OptionGroup var mode: WorkerModeOptions
    @OptionGroup var colour: ColorOption

    @Option(parsing: .unconditional, help: "Run failing tests again up to this many times; a test that then passes is flaky (default: 0).")
    var retries: Int?

    @Flag(name: .customLong("fail-on-flaky"), help: "Exit 1 when a test needed a retry to pass.")
    var failOnFlaky = false

    @Flag(help: "Finish an earlier run (the latest, or the id given as the only path) instead of planning a new one.")
    var resume = false

    /// pytest's options given directly, then the arguments after `--`: for every pytest.
    var pytestArgs: [String] { pytest.withPassthrough }

    func validate() throws {
        if let retries, retries < 0 { throw ValidationError("--retries must be 0 or more, not \(retries)") }
    }

    func run() async throws {
        let startedAt = Date()
        // First of all: a Ctrl-C at any moment from here on is an interruption (exit 2).
        let control = WorkerControl()
        let trap = SignalTrap { control.stop(.interrupted) }
        colour.apply()
        let python = try await self.python.resolved()
        var workerCount = workers?.resolved ?? WorkerCount.cpuCount
        var given = options.given
        given.workers = workers?.resolved
        given.workerProcesses = mode.given
        given.retries = retries
        given.failOnFlaky = failOnFlaky ? true : nil
        // Paths, folders, strategy file, shards, durations: all checked before the database is touched.
        let planned = resume ? nil : try plan.planning(python: python, pytestArgs: pytestArgs, workers: workerCount,
                                                       execution: given)
        if let planned { _ = try Planner().prepare(planned.request) }
        let queue = try await database.open(verifying: true)  // quick_check before this adds to the file
        // Dead workers of this host give their jobs back, and runs they left running are settled.
        try await WorkerRecovery.recover(queue)
        let target: Run
        var planning: (@Sendable () async throws -> Int)?
        let settings: RunSettings
        if let planned {
            settings = given
            if let notice = plan.strategyNotice(planned.request.mode, directory: planned.request.directory) {
                Console.print(notice)
            }
            if planned.request.mode == .automatic {
                // Create the run now and plan while the workers start their pytest.
                let workers = workerCount
                let (run, fill) = try await planned.prepareEarly(queue: queue) { plan, run in
                    PlanSummary.print(plan, run: run, workers: workers)
                }
                target = run
                planning = fill
            } else {
                let made: Plan
                let run: Run?
                do {
                    (made, run) = try await planned.make(queue: queue)
                } catch where trap.interrupted {
                    // Ctrl-C reached the collecting pytest too: an interruption, not its error.
                    throw RunnerError.interruptedWhilePlanning
                }
                guard let run else { throw ExitCode(3) }
                target = run
                if workers == nil {
                    workerCount = max(1, made.jobs.count)  // aomaker's rule: one worker per group
                }
                PlanSummary.print(made, run: run, workers: workerCount)
            }
        } else {
            target = try await resumable(queue)
            // Continue as the run was started; options given again win.
            settings = target.settings.overridden(by: given)
            workerCount = workers?.resolved ?? settings.workers ?? workerCount
        }
        if trap.interrupted {
            Console.print("interrupted while planning: run \(target.id) is planned; start it with `arun run --resume \(target.id)`")
            throw ExitCode(2)
        }
        var execution = try RunWiring(database: database, settings: settings, python: python,
                                      maxWorkerRestarts: mode.maxWorkerRestart, startedAt: startedAt)
            .execution(run: target.id, queue: queue)
        // Jobs of whole files: N file paths make at most N jobs.
        if !plan.paths.isEmpty && plan.paths.allSatisfy(Self.isFile) { execution.jobsAtMost = plan.paths.count }
        let code = try await RunWiring.finish(execution, target: target, queue: queue, workers: workerCount,
                                              control: control, trap: trap, planning: planning)
        if code != 0 { throw ExitCode(code) }
    }

    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// The run to resume: the id given as the only path, else the latest.
    func resumable(_ queue: any RunStore) async throws -> Run {
        if plan.paths.count > 1 || (plan.paths.count == 1 && Int64(plan.paths[0]) == nil) {
            throw UsageError("--resume takes at most one run id, not paths")
        }
        return try await queue.runOrLatest(plan.paths.first.flatMap { Int64($0) })
    }
}
