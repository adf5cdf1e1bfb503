import Foundation
import Planner
import Pytest
import Queue
import Reports

/// What `enqueue` and `run` share: plan a request and write the run.
public struct Planning: Sendable {
    public var request: PlanRequest
    public var name: String?
    /// How the run is to be worked (the worker options given); stored with the run.
    public var execution: RunSettings
    /// Told the planner's warnings, one line each.
    public var warn: @Sendable (String) -> Void

    public init(request: PlanRequest, name: String?, execution: RunSettings = RunSettings(),
                warn: @escaping @Sendable (String) -> Void) {
        self.request = request
        self.name = name
        self.execution = execution
        self.warn = warn
    }

    /// Plans and, given a queue, writes the run. History from the queue sizes the jobs.
    public func make(queue: (any RunStore)?) async throws -> (Plan, Run?) {
        var request = self.request
        if let queue {
            request.history = try await plannerDurations(queue: queue)
            request.pytestArgs = try SharedArguments.prepare(request.pytestArgs, in: request.directory)
        }
        let plan = try await Planner().plan(request)
        for warning in plan.warnings { warn(warning) }
        guard let queue else { return (plan, nil) }
        let settings = RunSettings.starting(request, filePlanning: plan.files != nil, execution: execution)
        let run = try await Planner().enqueue(plan, request: request, name: name, settings: settings, into: queue)
        return (plan, run)
    }

    /// Validates, creates the run empty, and returns the work that plans and fills it,
    /// to run while the workers start. `planned` is told the plan before it is written.
    public func prepareEarly(queue: any RunStore, planned: @escaping @Sendable (Plan, Run) -> Void) async throws
        -> (Run, @Sendable () async throws -> Void) {
        var request = self.request
        request.history = try await plannerDurations(queue: queue)
        request.pytestArgs = try SharedArguments.prepare(request.pytestArgs, in: request.directory)
        let planner = Planner()
        let context = try planner.prepare(request)
        let settings = RunSettings.starting(request, filePlanning: true, execution: execution)
        let run = try await queue.createRun(NewRun(
            name: name, directory: request.directory, paths: context.collectPaths, pytestArgs: request.pytestArgs,
            settings: settings))
        let finalRequest = request
        let warn = self.warn
        return (run, {
            let plan = try await planner.plan(finalRequest)
            for warning in plan.warnings { warn(warning) }
            planned(plan, run)
            try await planner.fill(run, with: plan, into: queue)
        })
    }
}
