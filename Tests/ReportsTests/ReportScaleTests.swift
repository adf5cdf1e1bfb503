import Foundation
import GRDB
@testable import Queue
import Reports
import TestSupport
import Testing

/// A run of 200,000 results generated in SQL, to measure report time and database size.
/// Off by default (it writes ~60 MB); `ARUN_REPORT_SCALE=200000 swift test --filter ReportScale`.
/// `ARUN_REPORT_SCALE_KEEP=path.db` keeps the database for timing the binary.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ARUN_REPORT_SCALE"] != nil, "set ARUN_REPORT_SCALE=N"))
struct ReportScaleTests {
    /// Writes a run of `count` tests in jobs of 100: 1 % failing with a traceback and ~7 KB
    /// of captured output, 0.5 % flaky (failed with a traceback, then passed on attempt 2),
    /// 2 % skipped, 8 workers over 10 minutes.
    static func generate(path: String, count: Int) async throws -> RunID {
        let queue = try SQLiteQueue(path: path)
        let run = try await queue.createRun(NewRun(name: "scale", directory: "/suite", paths: ["tests"],
                                                   settings: RunSettings(mode: "automatic")))
        try fill(path: path, run: run, count: count)
        return run.id
    }

    /// The rows, in a few INSERT … SELECT statements.
    static func fill(path: String, run: Run, count: Int) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        let db = try DatabaseQueue(path: path, configuration: configuration)
        try db.write { db in
            let base = 1_700_000_000.0
            try db.execute(sql: """
                INSERT INTO jobs (id, run_id, name, state, attempt, lease_owner, started_at, finished_at, estimated_seconds)
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :jobs)
                SELECT i + 1, :run, 'tests/pkg' || (i % 50) || '/test_f' || i || '.py', 'done', 1,
                       'host-1-' || (i % 8), :base + (i / 8) * 2.4, :base + (i / 8) * 2.4 + 2.3, 2.3
                FROM n
                """, arguments: ["jobs": count / 100, "run": run.id, "base": base])
            try db.execute(sql: """
                INSERT INTO tests (id, run_id, nodeid, file)
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :count)
                SELECT i + 1, :run,
                       'tests/pkg' || ((i / 100) % 50) || '/test_f' || (i / 100) || '.py::TestThing::test_case_' || (i % 100)
                           || '[param-' || i || ']',
                       'tests/pkg' || ((i / 100) % 50) || '/test_f' || (i / 100) || '.py'
                FROM n
                """, arguments: ["count": count, "run": run.id])
            try db.execute(sql: """
                INSERT INTO job_tests (job_id, position, test_id, attempt)
                SELECT (id - 1) / 100 + 1, (id - 1) % 100, id, 1 FROM tests WHERE run_id = :run
                """, arguments: ["run": run.id])
            let traceback = String(repeating: "    frame line with some source code and a value = 42\n", count: 15)
                + "E   AssertionError: expected 200, got 500"
            try db.execute(sql: """
                INSERT INTO results (run_id, test_id, attempt, outcome, duration, job_id, worker, started_at, finished_at,
                                     message, details)
                SELECT :run, t.id, 1,
                       CASE WHEN t.id % 100 = 7 THEN 'failed' WHEN t.id % 200 = 13 THEN 'failed'
                            WHEN t.id % 50 = 3 THEN 'skipped' ELSE 'passed' END,
                       0.0005 + (t.id % 37) * 0.0006, j.id, j.lease_owner, j.started_at + (t.id % 100) * 0.023,
                       j.started_at + (t.id % 100) * 0.023 + 0.02,
                       CASE WHEN t.id % 100 = 7 OR t.id % 200 = 13 THEN 'AssertionError: expected 200, got 500'
                            WHEN t.id % 50 = 3 THEN 'not on this platform' END,
                       CASE WHEN t.id % 100 = 7 OR t.id % 200 = 13 THEN :traceback END
                FROM tests t JOIN jobs j ON j.id = (t.id - 1) / 100 + 1
                WHERE t.run_id = :run
                """, arguments: ["run": run.id, "traceback": traceback])
            // What a failing test typically captures: some stdout, log records, a little stderr
            // (~7 KB; the plugin keeps at most 32 KiB per test).
            let line = "2026-01-01 12:00:00,000 INFO  client: GET /api/v1/items?page=3 -> 500 in 12 ms\n"
            let sections = try String(decoding: JSONEncoder().encode([
                ["Captured stdout call", String(repeating: line, count: 50)],
                ["Captured stderr call", String(repeating: "warning: retrying request\n", count: 20)],
                ["Captured log call", String(repeating: "WARNING  client:client.py:88 " + line, count: 25)],
            ]), as: UTF8.self)
            try db.execute(sql: """
                UPDATE results SET sections = :sections, extra = '{"head":"TestThing.test_case"}'
                WHERE run_id = :run AND attempt = 1 AND test_id % 100 = 7
                """, arguments: ["run": run.id, "sections": sections])
            try db.execute(sql: """
                INSERT INTO results (run_id, test_id, attempt, outcome, duration, job_id, worker, started_at, finished_at)
                SELECT run_id, test_id, 2, 'passed', duration, job_id, worker, finished_at + 600, finished_at + 600.02
                FROM results WHERE run_id = :run AND attempt = 1 AND test_id % 200 = 13
                """, arguments: ["run": run.id])
            try db.execute(sql: "UPDATE runs SET status = 'complete', started_at = ?, finished_at = ? WHERE id = ?",
                           arguments: [base, base + 700, run.id])
        }
        try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try db.close()
    }

    @Test func reportOverManyResults() async throws {
        let count = Int(ProcessInfo.processInfo.environment["ARUN_REPORT_SCALE"] ?? "") ?? 200_000
        let folder = try TemporaryFolder("arun-scale")
        let path = ProcessInfo.processInfo.environment["ARUN_REPORT_SCALE_KEEP"] ?? folder.file("scale.db")
        try? FileManager.default.removeItem(atPath: path)
        let started = Date()
        let run = try await Self.generate(path: path, count: count)
        let generated = Date().timeIntervalSince(started)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let queue = try SQLiteQueue(path: path)
        let results = try queue.readSync { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results") ?? 0 }
        var lines = ["\(results) results, \(count) tests: generated in \(String(format: "%.1f", generated)) s, "
                     + "database \(String(format: "%.1f", Double(size) / 1_048_576)) MB"]
        for format in ReportFormat.allCases {
            let begin = Date()
            let report = try await RunReport.load(run: run, from: queue, output: format.needsOutput)
            let loaded = Date().timeIntervalSince(begin)
            let text = report.render(format)
            let total = Date().timeIntervalSince(begin)
            lines.append("\(format.rawValue): load \(String(format: "%.2f", loaded)) s, total \(String(format: "%.2f", total)) s, "
                         + "\(text.utf8.count / 1024) KB")
            #expect(report.tests.count == count)
            #expect(report.totals["flaky"] == count / 200)
        }
        if let browser = HTMLBrowserTests.chromium {
            // Time to first render in headless Chromium: the page's own mark, and the whole
            // browser run (start-up, parse, script, DOM dump).
            let html = try await RunReport.load(run: run, from: queue, output: true).render(.html)
            let file = folder.file("scale.html")
            try html.write(toFile: file, atomically: false, encoding: .utf8)
            let begin = Date()
            let dom = try ChildProcess.run(browser, [
                "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(folder.file("profile"))",
                "--virtual-time-budget=60000", "--dump-dom", URL(fileURLWithPath: file).absoluteString,
            ], timeout: 600)
            let wall = Date().timeIntervalSince(begin)
            let mark = HTMLBrowserTests.matches(#"data-first-render-ms="(\d+)""#, in: dom.stdout).first?.first ?? "?"
            #expect(mark != "?", "the page rendered: \(dom.stderr.suffix(500))")
            #expect(HTMLBrowserTests.rows(dom.stdout).count == 300, "the first rows, on demand")
            lines.append("html in chromium: \(html.utf8.count / 1_048_576) MB, first render at \(mark) ms, "
                         + "browser run \(String(format: "%.1f", wall)) s")
        }
        print(lines.joined(separator: "\n"))
    }
}
