import Foundation
import Planner
import Pytest
import Queue
import Runner
import TestSupport
import Testing
import Worker

/// A run's life as a library: real pytest, a real SQLite file, worker tasks.
@Suite(.serialized) struct RunExecutionTests {
    /// Records what the run's life reports.
    final class Observer: RunObserver, @unchecked Sendable {
        private let lock = NSLock()
        private var events: [String] = []
        var seen: [String] { lock.withLock { events } }
        private func note(_ event: String) { lock.withLock { events.append(event) } }

        func roundStarted(run: RunID, workers: Int) async { note("start \(workers)") }
        func roundEnded() async { note("end") }
        func retrying(round: Int, of: Int, tests: Int) { note("retry \(round)/\(of): \(tests)") }
    }

    static func plannedRun(_ folder: TemporaryFolder) async throws -> (SQLiteQueue, Run) {
        try folder.write("tests/test_life.py", """
            import pathlib

            def test_ok():
                pass

            def test_flaky():
                seen = pathlib.Path(__file__).with_name("seen")
                if not seen.exists():
                    seen.write_text("once")
                    assert False, "first attempt fails"

            def test_fails():
                assert False, "always"
            """)
        let queue = try SQLiteQueue(path: folder.file("life.db"))
        let request = PlanRequest(paths: ["tests"], workers: 2, directory: folder.path, python: PythonInterpreter())
        let planning = Planning(request: request, name: "life", execution: RunSettings(retries: 1), warn: { _ in })
        let (_, run) = try await planning.make(queue: queue)
        return (queue, try #require(run))
    }

    @Test func retryRoundsSettleTheStatusAndTheExitCode() async throws {
        let folder = try TemporaryFolder("arun-runner")
        let (queue, run) = try await Self.plannedRun(folder)
        #expect(run.settings.retries == 1 && run.settings.workers == 2 && run.settings.planning == "files")
        let configuration = try run.settings.workerConfiguration(python: PythonInterpreter(),
                                                                 logDirectory: folder.url.appending(path: "logs"))
        let observer = Observer()
        let execution = RunExecution(hosting: .tasks(configuration), retries: run.settings.retries ?? 0,
                                     observer: observer)
        let ending = try await execution.execute(run, queue: queue, workers: 2, control: WorkerControl())
        #expect(ending.exitCode == 1, "test_fails still fails: \(ending.summary.line)")
        #expect(!ending.unfinished && !ending.interrupted)
        #expect(ending.summary[.passed] == 2 && ending.summary[.failed] == 1 && ending.summary.flaky == 1,
                "\(ending.summary.line)")
        #expect(ending.failures.map(\.nodeid) == ["tests/test_life.py::test_fails"])
        #expect(ending.failures.first?.attempt == 2)
        #expect(observer.seen.first == "start 1" && observer.seen.contains("retry 1/1: 2") && observer.seen.last == "end",
                "\(observer.seen)")
        #expect(try await queue.run(run.id).status == .complete)

        let strict = RunExecution(hosting: .tasks(configuration), failOnFlaky: true, observer: observer)
        #expect(try await strict.execute(run, queue: queue, workers: 1, control: WorkerControl()).exitCode == 1)
    }

    /// A stop signal the caller caught skips the retry rounds; a run whose jobs all finished
    /// before the stop is complete, never interrupted (issue 14); running it again retries.
    @Test func aSignalAfterTheLastJobLeavesTheRunComplete() async throws {
        let folder = try TemporaryFolder("arun-runner-stop")
        let (queue, run) = try await Self.plannedRun(folder)
        let configuration = try RunSettings().workerConfiguration(python: PythonInterpreter(),
                                                                  logDirectory: folder.url.appending(path: "logs"))
        let ending = try await RunExecution(hosting: .tasks(configuration), observer: Observer())
            .execute(run, queue: queue, workers: 2, control: WorkerControl(), interrupted: { true })
        #expect(!ending.interrupted && !ending.unfinished && ending.exitCode == 1, "\(ending.summary.line)")
        #expect(ending.summary[.failed] == 2, "no retry round after a stop: \(ending.summary.line)")
        #expect(try await queue.run(run.id).status == .complete)
        let resumed = try await RunExecution(hosting: .tasks(configuration), retries: 1, observer: Observer())
            .execute(run, queue: queue, workers: 2, control: WorkerControl())
        #expect(resumed.exitCode == 1 && resumed.summary.pending == 0, "\(resumed.summary.line)")
        #expect(try await queue.run(run.id).status == .complete)
    }
}
