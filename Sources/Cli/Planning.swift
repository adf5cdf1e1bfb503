import Foundation
import Planner
import Pytest
import Queue
import Reports

/// What `enqueue` and `run` share: build the request, plan, write, describe.
struct Planning {
    var request: PlanRequest
    var name: String?

    init(plan: PlanOptions, python: PythonOptions, pytestArgs: [String], workers: Int) throws {
        let directory = FileManager.default.currentDirectoryPath
        request = PlanRequest(
            paths: plan.paths, pytestArgs: pytestArgs, mode: try plan.mode(directory: directory), workers: workers,
            shard: try plan.shard(), durationsFile: try plan.durationsFromFile(), directory: directory,
            python: python.interpreter)
        name = plan.name
    }

    /// Plans and, given a queue, writes the run. History from the queue sizes the jobs.
    func make(queue: SQLiteQueue?) async throws -> (Plan, Run?) {
        try await make(opened: queue.map(OpenedQueue.sqlite))
    }

    /// Plans and, given a queue of either backend, writes the run.
    func make(opened: OpenedQueue?) async throws -> (Plan, Run?) {
        var request = self.request
        let queue = opened?.queue
        if let opened {
            request.history = try await opened.plannerHistory()
            request.pytestArgs = try SharedArguments.prepare(request.pytestArgs, in: request.directory)
        }
        let plan = try await Planner().plan(request)
        for warning in plan.warnings { FileHandle.standardError.write(Data("arun: warning: \(warning)\n".utf8)) }
        guard let queue else { return (plan, nil) }
        let run = try await Planner().enqueue(plan, request: request, name: name, into: queue)
        return (plan, run)
    }

    /// Validates, creates the run empty, and returns the work that plans and fills it,
    /// to run while the workers start.
    func prepareEarly(queue: SQLiteQueue) async throws -> (Run, @Sendable () async throws -> Void) {
        var request = self.request
        request.history = try plannerDurations(queue: queue)
        request.pytestArgs = try SharedArguments.prepare(request.pytestArgs, in: request.directory)
        let planner = Planner()
        let context = try planner.prepare(request)
        let settings = #"{"mode":"\#(request.mode.label)","workers":"\#(request.workers)","planning":"files"}"#
        let run = try await queue.createRun(NewRun(
            name: name, directory: request.directory, paths: context.collectPaths, pytestArgs: request.pytestArgs,
            settings: settings))
        let finalRequest = request
        return (run, {
            let plan = try await planner.plan(finalRequest)
            for warning in plan.warnings { FileHandle.standardError.write(Data("arun: warning: \(warning)\n".utf8)) }
            Planning.printSummary(plan, run: run, workers: finalRequest.workers)
            try await planner.fill(run, with: plan, into: queue)
        })
    }

    static func printSummary(_ plan: Plan, run: Run?, workers: Int) {
        let target = run.map { "run \($0.id)" } ?? "dry run (nothing written)"
        let unit = plan.files == nil ? "tests" : "files"
        if let files = plan.files {
            let known = plan.tests > 0 ? " (\(plan.tests) tests known from earlier runs)" : ""
            Console.print("\(target): \(files) test files\(known) in \(plan.jobs.count) jobs for \(workers) workers")
        } else {
            Console.print("\(target): \(plan.tests) tests in \(plan.jobs.count) jobs for \(workers) workers")
        }
        let shown = plan.groups.prefix(20)
        for group in shown { Console.print("  \(group.name): \(group.tests) \(unit)") }
        if plan.groups.count > shown.count { Console.print("  … \(plan.groups.count - shown.count) more jobs") }
        if plan.unmatched > 0 { Console.print("\(plan.unmatched) \(unit) matched no group and will not run") }
        if plan.duplicates > 0 { Console.print("\(plan.duplicates) tests were chosen by two groups and run once, in the first") }
        for problem in plan.collectionErrors { Console.print("collection error: \(problem.location): \(problem.message)") }
        let seconds = plan.workerSeconds.map { String(format: "%.1f", $0) }.joined(separator: ", ")
        Console.print("estimated seconds per worker: \(seconds)")
    }
}
