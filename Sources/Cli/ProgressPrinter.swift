import Foundation
import Pytest
import Queue
import Reports

/// Live progress of a run, once a second: on a terminal one line, cut to the terminal's
/// width, that updates in place; otherwise (or with NO_COLOR) a plain line every 5 s.
/// Failures are printed as they are recorded, each test once.
///
/// Every tick reads only what is new (results after the last seen `seq`, tests after
/// the last seen id), so its cost does not grow with the run; the plan's jobs are
/// read once, when planning is over.
final class ProgressPrinter: @unchecked Sendable {
    private let queue: any RunStore
    private let run: RunID
    private var workers: Int
    private var started = Date()
    private let live: Bool
    private var task: Task<Void, Never>?
    /// Kept across the rounds of `--retries`: a failure is printed once.
    private var tally = ProgressTally()
    private var firstResult: Date?
    /// Tests already done at the first look (a resumed run): not part of this rate.
    private var baseline: Int?
    /// Results up to here were recorded before this invocation: counted, not printed.
    private var quietSeq: Int64?

    init(queue: any RunStore, run: RunID, workers: Int) {
        self.queue = queue
        self.run = run
        self.workers = workers
        live = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    /// Starts (or, between retry rounds, restarts) the ticking.
    func start(workers: Int? = nil) {
        if let workers { self.workers = workers }
        task = Task { [self] in
            var lastPlain = Date.distantPast
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                guard let failures = try? await update() else { continue }
                // Nothing to show while the run is still being planned.
                guard tally.planKnown else { continue }
                if live, !failures.isEmpty { Console.print("\r\u{1B}[2K", terminator: "") }
                for failure in failures {
                    Console.print("\(failure.outcome.rawValue.uppercased()) \(failure.nodeid ?? "?")"
                                  + (failure.message.map { " - \($0.prefix(160))" } ?? ""))
                }
                if live {
                    Console.print("\r\u{1B}[2K" + Self.fit(line(), width: Self.terminalWidth()), terminator: "")
                } else if Date().timeIntervalSince(lastPlain) >= 5 {
                    lastPlain = Date()
                    Console.print(line())
                }
            }
        }
    }

    func stop() async {
        task?.cancel()
        await task?.value
        task = nil
        if live { Console.print("\r\u{1B}[2K", terminator: "") }
    }

    /// Reads what is new; returns the failures to print.
    private func update() async throws -> [ResultChange] {
        let quietSeq: Int64
        if let known = self.quietSeq {
            quietSeq = known
        } else {
            // What earlier invocations recorded is counted, not printed again.
            quietSeq = try await queue.lastResultSeq(of: run)
            self.quietSeq = quietSeq
        }
        if !tally.planKnown {
            guard try await queue.runOrLatest(run).status != .planned else { return [] }
            var files: [(file: String, known: Int?)] = []
            var openSeconds = 0.0
            for job in try await queue.jobOutlines(run: run) {
                let open = job.state == .queued || job.state == .running
                if open { openSeconds += job.estimatedSeconds }
                let payload = JobPayload.decode(job.payload)
                guard open, let paths = payload.files else { continue }
                for (index, file) in paths.enumerated() {
                    files.append((file, payload.known.flatMap { index < $0.count ? $0[index] : nil }))
                }
            }
            tally.learnPlan(files: files, openSeconds: openSeconds)
        }
        while true {
            let tests = try await queue.tests(of: run, after: tally.lastTestID, limit: 50_000)
            tally.add(tests: tests)
            if tests.count < 50_000 { break }
        }
        var failures: [ResultChange] = []
        while true {
            let results = try await queue.results(of: run, after: tally.lastSeq, limit: 10_000)
            failures += tally.add(results: results).filter { $0.seq > quietSeq }
            if results.count < 10_000 { break }
        }
        if baseline == nil { baseline = tally.done }
        if firstResult == nil, tally.done > (baseline ?? 0) { firstResult = Date() }
        return failures
    }

    private func line() -> String {
        let elapsed = Date().timeIntervalSince(started)
        let total = tally.expected.map { (tally.estimated ? "~" : "") + String($0) } ?? "?"
        let words = tally.words
        var text = "[\(tally.done)/\(total)]" + (words.isEmpty ? "" : " \(words)")
            + " · \(workers) worker\(workers == 1 ? "" : "s") · \(Int(elapsed)) s"
        if let eta = eta(elapsed: elapsed) { text += " · ~\(Int(eta.rounded(.up))) s left" }
        return text
    }

    /// Before any result: the plan's recorded or per-file estimates spread over the
    /// workers; then the rate since the first result over the tests still expected.
    private func eta(elapsed: Double) -> Double? {
        guard let expected = tally.expected else { return nil }
        let base = baseline ?? 0
        if tally.done <= base {
            let left = tally.plannedSeconds / Double(max(1, workers)) - elapsed
            return left > 0 ? left : nil
        }
        guard let firstResult, tally.done < expected else { return nil }
        let running = Date().timeIntervalSince(firstResult)
        guard running > 0.5 else { return nil }
        return running / Double(tally.done - base) * Double(expected - tally.done)
    }

    /// One line that never wraps: cut to one column less than the terminal's width.
    static func fit(_ text: String, width: Int) -> String {
        guard width > 1, text.count >= width else { return text }
        return String(text.prefix(width - 2)) + "…"
    }

    static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
    }
}
