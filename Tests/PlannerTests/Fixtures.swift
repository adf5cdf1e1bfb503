import Planner

/// Deterministic pseudo-random numbers (SplitMix64), so synthetic suites are
/// identical on every run and every machine.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// A synthetic suite: tests in collection order plus their "true" durations.
struct SyntheticSuite {
    var tests: [CollectedTest]
    var durations: [String: Double]

    var totalSeconds: Double { tests.reduce(0) { $0 + (durations[$1.nodeid] ?? 0) } }
    var longestTestSeconds: Double { tests.map { durations[$0.nodeid] ?? 0 }.max() ?? 0 }

    /// `files` files in `directories` directories with a heavy-tailed duration
    /// distribution (most tests fast, a few very slow), plus one very slow file.
    static func skewed(files: Int = 300, directories: Int = 12, seed: UInt64 = 42,
                       slowFileTests: Int = 150, slowTestSeconds: Double = 2) -> SyntheticSuite {
        var random = SeededGenerator(seed: seed)
        var tests: [CollectedTest] = []
        var durations: [String: Double] = [:]
        for fileNumber in 0..<files {
            let file = "tests/d\(fileNumber % directories)/test_f\(fileNumber).py"
            let count = 1 + Int(random.unit() * 40)
            for testNumber in 0..<count {
                let nodeid = "\(file)::test_\(testNumber)"
                tests.append(CollectedTest(nodeid: nodeid, file: file))
                // Pareto-like tail: 0.02 s typical, up to ~20 s.
                durations[nodeid] = 0.02 / max(random.unit(), 0.001)
            }
        }
        let slow = "tests/slow/test_everything.py"
        for testNumber in 0..<slowFileTests {
            let nodeid = "\(slow)::test_case[\(testNumber)]"
            tests.append(CollectedTest(nodeid: nodeid, file: slow))
            durations[nodeid] = slowTestSeconds
        }
        return SyntheticSuite(tests: tests, durations: durations)
    }

    /// `files` files of `testsPerFile` tests, every test `seconds` long.
    static func uniform(files: Int, testsPerFile: Int, seconds: Double = 1) -> SyntheticSuite {
        var tests: [CollectedTest] = []
        var durations: [String: Double] = [:]
        for fileNumber in 0..<files {
            let file = "tests/test_u\(fileNumber).py"
            for testNumber in 0..<testsPerFile {
                let nodeid = "\(file)::test_\(testNumber)"
                tests.append(CollectedTest(nodeid: nodeid, file: file))
                durations[nodeid] = seconds
            }
        }
        return SyntheticSuite(tests: tests, durations: durations)
    }
}

/// A test in `file` named `name`, matching the given expression indices.
func collected(_ file: String, _ name: String, matches: [Int] = []) -> CollectedTest {
    CollectedTest(nodeid: "\(file)::\(name)", file: file, marks: [], matches: matches)
}

/// Runs `body` and returns the `PlanError` it throws, or `nil`.
func plannerError(_ body: () throws -> Void) -> PlanError? {
    do {
        try body()
        return nil
    } catch let error as PlanError {
        return error
    } catch {
        return nil
    }
}
