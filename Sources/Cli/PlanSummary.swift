import Foundation
import Planner
import Queue
import Runner

/// Prints a plan: where it went, its jobs, what it could not place, its estimate.
enum PlanSummary {
    static func print(_ plan: Plan, run: Run?, workers: Int) {
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

    /// A planner warning on stderr.
    static func warn(_ warning: String) {
        FileHandle.standardError.write(Data("arun: warning: \(warning)\n".utf8))
    }
}

extension PlanOptions {
    /// The planning these flags ask for, from the current folder.
    func planning(python: PythonOptions, pytestArgs: [String], workers: Int,
                  execution: RunSettings = RunSettings()) throws -> Planning {
        let directory = FileManager.default.currentDirectoryPath
        let request = PlanRequest(
            paths: paths, pytestArgs: pytestArgs, mode: try mode(directory: directory), workers: workers,
            shard: try shard(), durationsFile: try durationsFromFile(), directory: directory,
            python: python.interpreter)
        return Planning(request: request, name: name, execution: execution, warn: PlanSummary.warn)
    }
}
