import Testing
@testable import Planner

/// Every test appears in exactly one job.
private func expectEachTestOnce(_ plan: BalancePlan, _ tests: [CollectedTest],
                                sourceLocation: SourceLocation = #_sourceLocation) {
    let planned = plan.jobs.flatMap(\.group.tests).map(\.nodeid)
    #expect(planned.count == tests.count, sourceLocation: sourceLocation)
    #expect(Set(planned) == Set(tests.map(\.nodeid)), sourceLocation: sourceLocation)
    #expect(!plan.jobs.contains { $0.group.tests.isEmpty }, sourceLocation: sourceLocation)
}

/// How many distinct jobs hold tests of each file.
private func jobsPerFile(_ plan: BalancePlan) -> [String: Int] {
    var jobsOfFile: [String: Set<String>] = [:]
    for job in plan.jobs {
        for test in job.group.tests {
            jobsOfFile[test.file, default: []].insert(job.group.name)
        }
    }
    return jobsOfFile.mapValues(\.count)
}

@Suite struct BalancerTests {
    @Test func skewedSuiteIsWithinTenPercentOfTheLowerBound() throws {
        let suite = SyntheticSuite.skewed()
        let workers = 8
        let balancer = try Balancer(workers: workers)
        let plan = balancer.plan(suite.tests, durations: suite.durations)
        expectEachTestOnce(plan, suite.tests)

        // No schedule beats perfect sharing of the work, nor the longest single
        // test, and every worker pays at least one startup.
        let lowerBound = max(suite.totalSeconds / Double(workers), suite.longestTestSeconds) + balancer.startupSeconds
        #expect(plan.estimatedWallSeconds >= lowerBound - 1e-9)
        #expect(plan.estimatedWallSeconds <= 1.10 * lowerBound,
                "makespan \(plan.estimatedWallSeconds) vs lower bound \(lowerBound)")
        #expect(plan.workerSeconds.count == workers)

        // Long suite: roughly 4–8 jobs per worker, each well above the startup cost.
        #expect((4 * workers...9 * workers).contains(plan.jobs.count), "\(plan.jobs.count) jobs")
        #expect(plan.jobs.allSatisfy { $0.estimatedSeconds >= 5 * balancer.startupSeconds })

        // The 300 s file was split into contiguous pieces; nothing else was.
        let split = jobsPerFile(plan).filter { $0.value > 1 }
        #expect(Array(split.keys) == ["tests/slow/test_everything.py"])
        let pieces = plan.jobs.filter { $0.group.name.hasPrefix("tests/slow/test_everything.py [") }
        #expect(pieces.count == split.values.first)
        let position = Dictionary(uniqueKeysWithValues: suite.tests.enumerated().map { ($1.nodeid, $0) })
        let pieceOrder = pieces.sorted { position[$0.group.tests[0].nodeid, default: 0] < position[$1.group.tests[0].nodeid, default: 0] }
        #expect(pieceOrder.map(\.group.name).last == "tests/slow/test_everything.py [\(pieces.count)/\(pieces.count)]")
        let rejoined = pieceOrder.flatMap(\.group.tests)
        #expect(rejoined == suite.tests.filter { $0.file == "tests/slow/test_everything.py" })
    }

    @Test(arguments: [1, 2, 3, 4, 16])
    func otherWorkerCountsStayNearTheLowerBound(workers: Int) throws {
        let suite = SyntheticSuite.skewed(seed: 3)
        let balancer = try Balancer(workers: workers)
        let plan = balancer.plan(suite.tests, durations: suite.durations)
        expectEachTestOnce(plan, suite.tests)
        let lowerBound = max(suite.totalSeconds / Double(workers), suite.longestTestSeconds) + balancer.startupSeconds
        #expect(plan.estimatedWallSeconds <= 1.10 * lowerBound,
                "makespan \(plan.estimatedWallSeconds) vs lower bound \(lowerBound)")
        #expect(plan.jobs.count <= (balancer.jobsPerWorker + 3) * workers, "\(plan.jobs.count) jobs")
    }

    @Test func jobsAreLongestFirstAndEstimatesAddUp() throws {
        let suite = SyntheticSuite.skewed(seed: 7)
        let balancer = try Balancer(workers: 3)
        let plan = balancer.plan(suite.tests, durations: suite.durations)
        for (earlier, later) in zip(plan.jobs, plan.jobs.dropFirst()) {
            #expect(earlier.estimatedSeconds > later.estimatedSeconds
                || (earlier.estimatedSeconds == later.estimatedSeconds && earlier.group.name < later.group.name))
        }
        for job in plan.jobs {
            let work = job.group.tests.reduce(0) { $0 + (suite.durations[$1.nodeid] ?? 0) }
            #expect(abs(job.estimatedSeconds - (work + balancer.startupSeconds)) < 1e-6)
        }
        let total = plan.jobs.reduce(0) { $0 + $1.estimatedSeconds }
        #expect(abs(plan.workerSeconds.reduce(0, +) - total) < 1e-6)
        #expect(Set(plan.jobs.map(\.group.name)).count == plan.jobs.count, "job names are unique")
        #expect(plan.knownTests == suite.tests.count)
    }

    @Test func withoutHistoryEveryTestWeighsTheSame() throws {
        let suite = SyntheticSuite.uniform(files: 400, testsPerFile: 10)
        let balancer = try Balancer(workers: 4)
        let plan = balancer.plan(suite.tests)
        expectEachTestOnce(plan, suite.tests)
        #expect(plan.knownTests == 0)
        #expect(plan.fallbackTestSeconds == balancer.assumedTestSeconds)
        for job in plan.jobs {
            let expected = balancer.startupSeconds + Double(job.group.tests.count) * balancer.assumedTestSeconds
            #expect(abs(job.estimatedSeconds - expected) < 1e-9)
        }
        // 4000 tests × 0.1 s = 400 s on 4 workers: 6 jobs per worker of ~16.7 s, whole files.
        #expect(jobsPerFile(plan).values.allSatisfy { $0 == 1 })
        #expect((20...30).contains(plan.jobs.count), "\(plan.jobs.count) jobs")

        // A quarter of that suite is too short for 6 jobs per worker: jobs of the minimum length instead.
        let medium = SyntheticSuite.uniform(files: 100, testsPerFile: 10)
        let mediumPlan = balancer.plan(medium.tests)
        #expect((7...9).contains(mediumPlan.jobs.count), "\(mediumPlan.jobs.count) jobs")
        #expect(plan.jobs.allSatisfy { $0.estimatedSeconds - balancer.startupSeconds >= balancer.minimumJobSeconds / 2 })
    }

    @Test func unknownTestsCostTheMedianOfKnownOnes() throws {
        let tests = (0..<5).map { collected("tests/test_a.py", "t\($0)") }
        let durations = ["tests/test_a.py::t0": 1.0, "tests/test_a.py::t1": 9.0, "tests/test_a.py::t2": 3.0,
                         "elsewhere.py::gone": 100.0]
        let plan = try Balancer(workers: 1).plan(tests, durations: durations)
        #expect(plan.knownTests == 3)
        #expect(plan.fallbackTestSeconds == 3.0)  // median of this suite's 1, 3, 9; history of other tests ignored
        let expected: Double = 0.6 + 1 + 9 + 3 + 3 + 3  // startup, three known, two at the median
        let estimate = plan.jobs.first?.estimatedSeconds ?? 0
        #expect(abs(estimate - expected) < 1e-9)

        // Renamed suite: no test known, so the whole history's median stands in.
        let renamed = try Balancer(workers: 1).plan(tests, durations: ["x::a": 2, "x::b": 4, "x::c": 50, "x::d": 6])
        #expect(renamed.knownTests == 0)
        #expect(renamed.fallbackTestSeconds == 5.0)
    }

    @Test func tinySuitesGetNoMoreJobsThanNeeded() throws {
        let balancer = try Balancer(workers: 8)
        #expect(balancer.plan([]).jobs.isEmpty)
        #expect(balancer.plan([]).estimatedWallSeconds == 0)

        let one = [collected("tests/test_a.py", "t")]
        #expect(balancer.plan(one).jobs.count == 1)

        // Three 1 s files on 8 workers: one job per file, no file is split.
        let small = SyntheticSuite.uniform(files: 3, testsPerFile: 10, seconds: 0.1)
        let plan = balancer.plan(small.tests, durations: small.durations)
        #expect(plan.jobs.count == 3)
        #expect(jobsPerFile(plan).values.allSatisfy { $0 == 1 })

        // Many tiny files: about one job per worker, never more jobs than tests.
        let crumbs = SyntheticSuite.uniform(files: 200, testsPerFile: 1, seconds: 0.05)
        let crumbPlan = balancer.plan(crumbs.tests, durations: crumbs.durations)
        expectEachTestOnce(crumbPlan, crumbs.tests)
        #expect((8...9).contains(crumbPlan.jobs.count), "\(crumbPlan.jobs.count) jobs")
    }

    @Test func oneHugeFileIsSplitOnlyWhenMuchLongerThanAJob() throws {
        let balancer = try Balancer(workers: 4)
        // One 600 s file among 20 s of others: split, and the split spreads it.
        var suite = SyntheticSuite.uniform(files: 20, testsPerFile: 1, seconds: 1)
        for number in 0..<300 {
            let test = collected("tests/test_huge.py", "t\(number)")
            suite.tests.append(test)
            suite.durations[test.nodeid] = 2
        }
        let plan = balancer.plan(suite.tests, durations: suite.durations)
        expectEachTestOnce(plan, suite.tests)
        #expect((jobsPerFile(plan)["tests/test_huge.py"] ?? 0) > 4)
        #expect(plan.estimatedWallSeconds <= 1.1 * (620.0 / 4 + balancer.startupSeconds))

        // A file just over the target but under twice it stays whole.
        let even = SyntheticSuite.uniform(files: 40, testsPerFile: 30, seconds: 1)  // 30 s files, 1200 s
        let evenPlan = balancer.plan(even.tests, durations: even.durations)
        #expect(jobsPerFile(evenPlan).values.allSatisfy { $0 == 1 })
    }

    @Test func sameInputSamePlan() throws {
        let suite = SyntheticSuite.skewed(seed: 99)
        let balancer = try Balancer(workers: 5)
        let first = balancer.plan(suite.tests, durations: suite.durations)
        // Rebuild the dictionary in reverse so its iteration order differs.
        var reversed: [String: Double] = [:]
        for key in suite.durations.keys.sorted().reversed() {
            reversed[key] = suite.durations[key]
        }
        #expect(first == balancer.plan(suite.tests, durations: reversed))
        #expect(first == balancer.plan(suite.tests, durations: suite.durations))
        let partial = suite.durations.filter { $0.key.hasSuffix("1") }
        #expect(balancer.plan(suite.tests, durations: partial) == balancer.plan(suite.tests, durations: partial))
    }

    @Test func invalidSettingsAreRejected() {
        #expect(plannerError { _ = try Balancer(workers: 0) } == .invalidWorkerCount(0))
        #expect(plannerError { _ = try Balancer(workers: 0) }?.description.contains("at least 1 worker") == true)
        #expect(plannerError { _ = try Balancer(workers: 2, startupSeconds: -1) }?.description.contains("startupSeconds") == true)
        #expect(plannerError { _ = try Balancer(workers: 2, jobsPerWorker: 0) }?.description.contains("jobsPerWorker") == true)
        #expect(plannerError { _ = try Balancer(workers: 2, assumedTestSeconds: .nan) }?.description.contains("assumedTestSeconds") == true)
    }

    @Test func contiguousPartsAreBalancedAndCoverEverything() {
        let costs: [Double] = [5, 1, 1, 1, 1, 1, 9, 1, 1, 1, 1, 1]
        let parts = BalancerPacking.contiguousParts(of: costs, count: 3)
        #expect(parts.count == 3)
        #expect(parts.first?.lowerBound == 0)
        #expect(parts.last?.upperBound == costs.count)
        for (left, right) in zip(parts, parts.dropFirst()) {
            #expect(left.upperBound == right.lowerBound)
        }
        #expect(parts.allSatisfy { !$0.isEmpty })
        let sums = parts.map { costs[$0].reduce(0, +) }
        #expect(sums.max() ?? 0 <= 12, "\(sums)")
        // Asking for more parts than items gives one item each.
        #expect(BalancerPacking.contiguousParts(of: [1, 2], count: 5) == [0..<1, 1..<2])
    }
}
