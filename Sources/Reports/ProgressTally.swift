import Foundation
import Queue

/// A run's live counts, kept from what changed since the last look (new results, new
/// tests), so each update costs what is new, not what the run already holds.
///
/// The denominator comes from the plan: tests the run knows, plus, for files no worker
/// has collected yet, the tests earlier runs saw in them, else an estimate (the average
/// tests per file so far), which ``estimated`` flags.
public struct ProgressTally: Sendable {
    /// Final-attempt counts by pytest's word (teardown errors add an "error", a passed
    /// call with a failed teardown also a "passed", as pytest counts them).
    public private(set) var outcomes: [Outcome: Int] = [:]
    public private(set) var teardownErrors = 0
    /// Tests with a result.
    public private(set) var done = 0
    /// Tests the run has registered.
    public private(set) var registered = 0
    /// Recorded seconds of the final attempts.
    public private(set) var recordedSeconds = 0.0
    /// The last result and test seen, where the next read starts.
    public private(set) var lastSeq: Int64 = 0
    public private(set) var lastTestID: TestID = 0

    private var latest: [TestID: Entry] = [:]
    /// Files planned but not seen registered: tests earlier runs saw in each (nil: unknown).
    private var pendingFiles: [String: Int?] = [:]
    private var pendingKnown = 0
    private var pendingUnknown = 0
    private var collectedFiles: Set<String> = []
    /// Estimated seconds of the jobs open when the plan was read.
    public private(set) var plannedSeconds = 0.0
    public private(set) var planKnown = false

    private struct Entry {
        var attempt: Int
        var outcome: Outcome
        var extraPassed: Bool
        var teardownError: Bool
    }

    public init() {}

    /// Learns the plan's files (jobs of whole files, with what history says of them) and
    /// the estimated seconds still to run. Files whose tests are registered already count
    /// as collected.
    public mutating func learnPlan(files: [(file: String, known: Int?)], openSeconds: Double) {
        planKnown = true
        plannedSeconds = openSeconds
        for (file, known) in files where !collectedFiles.contains(file) && pendingFiles[file] == nil {
            pendingFiles[file] = .some(known)
            if let known { pendingKnown += known } else { pendingUnknown += 1 }
        }
    }

    /// Tests registered since the last call.
    public mutating func add(tests: [RegisteredTest]) {
        for test in tests {
            registered += 1
            lastTestID = max(lastTestID, test.id)
            guard collectedFiles.insert(test.file).inserted else { continue }
            if let pending = pendingFiles.removeValue(forKey: test.file) {
                if let known = pending { pendingKnown -= known } else { pendingUnknown -= 1 }
            }
        }
    }

    /// Results written since the last call, in commit order; returns the failures among
    /// them whose test had not failed before (a retried test's failure shows once).
    public mutating func add(results: [ResultChange]) -> [ResultChange] {
        var newFailures: [ResultChange] = []
        for change in results {
            lastSeq = max(lastSeq, change.seq)
            let extra = change.extra ?? ""
            let entry = Entry(attempt: change.attempt, outcome: change.outcome,
                              extraPassed: extra.contains(#""call_outcome":"passed""#),
                              teardownError: extra.contains(#""teardown_error":true"#))
            let previous = latest[change.testID]
            if let previous {
                guard previous.attempt <= change.attempt else { continue }
                count(previous, -1)
            } else {
                done += 1
            }
            latest[change.testID] = entry
            count(entry, 1)
            recordedSeconds += change.duration
            if change.outcome.isFailure, previous?.outcome.isFailure != true { newFailures.append(change) }
        }
        return newFailures
    }

    private mutating func count(_ entry: Entry, _ sign: Int) {
        outcomes[entry.outcome, default: 0] += sign
        if entry.extraPassed { outcomes[.passed, default: 0] += sign }
        if entry.teardownError { teardownErrors += sign }
    }

    /// Tests the run will hold, as far as known now; nil when nothing is known yet.
    public var expected: Int? {
        let files = collectedFiles.count
        if pendingUnknown == 0 { return registered + pendingKnown }
        let knownFiles = files + pendingFiles.count - pendingUnknown
        let knownTests = registered + pendingKnown
        guard knownFiles > 0, knownTests > 0 else { return nil }
        let perFile = Double(knownTests) / Double(knownFiles)
        return max(registered, knownTests + Int((perFile * Double(pendingUnknown)).rounded()))
    }

    /// True while the denominator includes files whose test count is a guess.
    public var estimated: Bool { pendingUnknown > 0 }

    public subscript(outcome: Outcome) -> Int { outcomes[outcome, default: 0] }

    /// pytest's words in pytest's order: `3 failed, 10 passed, 1 xfailed, 1 error`.
    public var words: String {
        var parts: [String] = []
        func add(_ count: Int, _ word: String) { if count > 0 { parts.append("\(count) \(word)") } }
        add(self[.failed], "failed")
        add(self[.passed], "passed")
        add(self[.skipped], "skipped")
        add(self[.xfailed], "xfailed")
        add(self[.xpassed], "xpassed")
        let errors = self[.error] + teardownErrors
        add(errors, errors == 1 ? "error" : "errors")
        add(self[.crashed], "crashed")
        add(self[.timeout], "timeout")
        add(self[.notRun], "not run")
        return parts.joined(separator: ", ")
    }
}
