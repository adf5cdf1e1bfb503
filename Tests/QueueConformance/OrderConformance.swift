import Foundation
import Queue

/// What order-dependent tests are told by: runs of the same plan, and the pytest process
/// of every attempt.
extension QueueConformance {
    /// One job of `nodeids` in a run of the plan `pytestArgs`, claimed by `w1`; records
    /// `(nodeid, outcome, process, start)` in one batch, and `unstarted` results
    /// `(nodeid, outcome, process, end)` of tests that never started (not found, not run).
    static func orderRun(_ queue: any RunStore, nodeids: [String], pytestArgs: [String] = ["-q"],
                         results: [(String, Outcome, Int32, Double)],
                         unstarted: [(String, Outcome, Int32, Double)] = []) async throws -> RunID {
        let run = try await queue.createRun(NewRun(directory: "/suite", paths: ["tests"], pytestArgs: pytestArgs))
        try await queue.enqueue([NewJob(name: "j", tests: nodeids.map { nodeid in
            NewTest(nodeid: nodeid, file: String(nodeid.prefix { character in character != ":" }))
        })], into: run.id)
        let claim = try unwrap(try await queue.claim(run: run.id, worker: "w1", lease: 60))
        let tests = Dictionary(uniqueKeysWithValues: try await queue.pendingTests(of: claim).map { ($0.nodeid, $0) })
        try check(try await queue.record(results.map { nodeid, outcome, process, start in
            TestResult(testID: tests[nodeid]!.testID, attempt: 1, outcome: outcome, duration: 0.1, startedAt: start,
                       finishedAt: start + 0.1, process: process)
        } + unstarted.map { nodeid, outcome, process, end in
            TestResult(testID: tests[nodeid]!.testID, attempt: 1, outcome: outcome, finishedAt: end, process: process)
        }, for: claim, worker: "w1"))
        try check(try await queue.complete(claim))
        return run.id
    }

    /// Two runs of one plan. In the second, worker w1's first pytest process ran `a`, then
    /// `flaky` (which failed after the same test as in the first run: flaky between runs);
    /// its next process (after a crash, same worker) ran `warns` first, which failed after
    /// two tests in the first run: order-dependent. Only the process id tells them apart.
    /// `ghost` was not found by its job in the second run: a result that ran nothing, so
    /// not part of what ran before `warns`.
    static func comparesRunsOfTheSamePlanByProcess(_ make: Factory) async throws {
        let clock = ConformanceClock()
        let queue = try await make(clock)
        let nodeids = ["a.py::first", "b.py::flaky", "b.py::warns", "c.py::plain", "d.py::stopped", "e.py::ghost"]
        let first = try await orderRun(queue, nodeids: nodeids, results: [
            ("a.py::first", .passed, 100, 1), ("b.py::flaky", .passed, 100, 2), ("b.py::warns", .passed, 100, 3),
            ("c.py::plain", .passed, 100, 4), ("d.py::stopped", .passed, 100, 5), ("e.py::ghost", .passed, 100, 6),
        ])
        // Another plan in between: other pytest arguments, then other tests.
        let otherArgs = try await orderRun(queue, nodeids: nodeids, pytestArgs: ["-x"], results: [])
        let otherTests = try await orderRun(queue, nodeids: Array(nodeids.dropLast()), results: [])
        let second = try await orderRun(queue, nodeids: nodeids, results: [
            ("a.py::first", .passed, 200, 1), ("b.py::flaky", .failed, 200, 2),
            ("b.py::warns", .failed, 300, 3), ("c.py::plain", .passed, 300, 4), ("d.py::stopped", .notRun, 300, 5),
        ], unstarted: [("e.py::ghost", .error, 300, 2.5)])
        try check(try await queue.samePlanRun(before: second) == first)
        try check(try await queue.samePlanRun(before: first) == nil)
        try check(try await queue.samePlanRun(before: otherArgs) == nil)
        try check(try await queue.samePlanRun(before: otherTests) == nil)

        let attempts = try await queue.processedAttempts(run: second)
        let processes = Dictionary(uniqueKeysWithValues: attempts.map { ($0.nodeid, $0.process) })
        try check(processes == ["a.py::first": 200, "b.py::flaky": 200, "b.py::warns": 300, "c.py::plain": 300,
                                "d.py::stopped": 300, "e.py::ghost": 300], "\(processes)")
        try check(attempts.allSatisfy { $0.worker == "w1" && $0.attempt == 1 && $0.finishedAt != nil })
        try check(attempts.filter { $0.startedAt == nil }.map(\.nodeid) == ["e.py::ghost"])

        let order = try unwrap(try await queue.orderComparison(run: second))
        try check(order.comparedRun == first && order.run == second)
        // d.py::stopped did not run in the second run: not a difference.
        try check(order.differences.map(\.nodeid) == ["b.py::flaky", "b.py::warns", "e.py::ghost"],
                  "\(order.differences.map(\.nodeid))")
        let flaky = order.differences[0], warns = order.differences[1], ghost = order.differences[2]
        try check(ghost.current.testsBefore == 0 && ghost.earlier.testsBefore == 5 && ghost.dependsOnOrder)
        try check(!flaky.dependsOnOrder && warns.dependsOnOrder)
        try check(flaky.current.outcome == .failed && flaky.earlier.outcome == .passed)
        try check(flaky.current.testsBefore == 1 && flaky.earlier.testsBefore == 1)
        try check(flaky.current.previous == "a.py::first" && flaky.current.filesBefore == ["a.py"])
        try check(warns.current.testsBefore == 0 && warns.current.previous == nil && warns.current.filesBefore == [])
        try check(warns.earlier.testsBefore == 2 && warns.earlier.previous == "b.py::flaky")
        try check(warns.earlier.filesBefore == ["a.py", "b.py"] && warns.earlier.run == first)
        try check(order.orderDependent.map(\.nodeid) == ["b.py::warns", "e.py::ghost"])
        try check(order.flakyBetweenRuns.map(\.nodeid) == ["b.py::flaky"])

        // Named explicitly, any run is compared; no earlier run of the plan: nothing.
        let explicit = try unwrap(try await queue.orderComparison(run: second, comparedWith: otherArgs))
        try check(explicit.comparedRun == otherArgs && explicit.differences.isEmpty, "no results there to differ")
        try check(try await queue.orderComparison(run: first) == nil)
    }

    static let orderChecks: [(String, @Sendable (@escaping Factory) async throws -> Void)] = [
        ("comparesRunsOfTheSamePlanByProcess", comparesRunsOfTheSamePlanByProcess),
    ]
}
