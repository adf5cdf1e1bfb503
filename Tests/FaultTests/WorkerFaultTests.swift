import Foundation
import TestSupport
import Testing

/// Workers killed, frozen and orphaned, with real processes and real signals. Every
/// trial ends with each test recorded exactly once.
@Suite(.serialized) struct WorkerFaultTests {
    /// Kills the `pick`ed worker `kills` times, each after the run recorded a few more results.
    static func killRepeatedly(_ rig: FaultRig, run: RunningProcess, kills: Int,
                               pick: () -> Int32?) throws -> Int {
        var done = 0
        for index in 0..<kills {
            try rig.waitForResults(20 + index * 15)
            guard let victim = pick() else { break }
            kill(victim, SIGKILL)
            done += 1
            usleep(300_000)
        }
        return done
    }

    @Test func killedWorkerProcessesAreReplaced() throws {
        let rig = try FaultRig("mp-kill", files: 16, perFile: 25, sleep: 0.05)
        let run = try rig.start(["run", "--mp", "-n", "3"])
        let kills = try Self.killRepeatedly(rig, run: run, kills: 6) { Processes.workers(of: run.pid).first }
        let output = try run.wait()
        let tally = try rig.tally()
        rig.record("kill -9 of `arun work` ×\(kills) (--mp -n 3)", tally, exit: output.status)
        #expect(kills == 6)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(tally.exactlyOnce, "\(tally)")
        #expect(tally.outcomes == ["passed": rig.tests], "\(tally)")
        let replaced = output.stderr.components(separatedBy: "replaces it (restart").count - 1
        #expect(replaced == kills, "\(output.stderr)")
        #expect(output.stderr.contains("was killed by signal 9 (SIGKILL): its job went back to the queue"))
    }

    /// In `--mt` a worker's only process is its pytest: a killed one records the test it was
    /// running as crashed (as for a segfault) and a new pytest takes the rest.
    @Test func killedPytestProcessesAreReplaced() throws {
        let rig = try FaultRig("mt-kill", files: 16, perFile: 25, sleep: 0.05)
        let run = try rig.start(["run", "-n", "3"])
        let kills = try Self.killRepeatedly(rig, run: run, kills: 6) { Processes.pytests(under: run.pid).first }
        let output = try run.wait()
        let tally = try rig.tally()
        rig.record("kill -9 of pytest ×\(kills) (--mt -n 3)", tally, exit: output.status)
        #expect(kills == 6)
        #expect(tally.exactlyOnce, "\(tally)")
        let crashed = tally.outcomes["crashed", default: 0]
        #expect(crashed <= kills && crashed + tally.outcomes["passed", default: 0] == rig.tests, "\(tally)")
        #expect(output.status == (crashed > 0 ? 1 : 0), "\(output.stdout)\(output.stderr)")
    }

    @Test func deathsPastTheLimitStopTheRunResumably() throws {
        let rig = try FaultRig("limit", files: 24, perFile: 10, sleep: 0.1)
        let run = try rig.start(["run", "--mp", "-n", "2", "--max-worker-restart", "1"])
        let kills = try Self.killRepeatedly(rig, run: run, kills: 2) { Processes.workers(of: run.pid).first }
        let output = try run.wait()
        #expect(kills == 2)
        #expect(output.status == 2, "\(output.stdout)\(output.stderr)")
        #expect(output.stderr.contains("2 workers died, more than --max-worker-restart 1 allows"), "\(output.stderr)")
        #expect(output.stdout.contains("finish it with `arun run --resume"), "\(output.stdout)")
        // Files nobody collected yet are counted, not dropped.
        #expect(output.stdout.contains("test files not collected yet"), "\(output.stdout)")
        #expect(try rig.status() == "interrupted")
        let resumed = try rig.arun(["run", "--resume"])
        let tally = try rig.tally()
        rig.record("--max-worker-restart 1 exceeded, then --resume", tally, exit: output.status)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(tally.exactlyOnce, "\(tally)")
    }

    /// The whole process tree killed at once; `--resume` takes the dead workers' jobs back
    /// at once (a 600 s lease would otherwise hold them past this test's timeout).
    @Test func wholeTreeKilledThenResumed() throws {
        let rig = try FaultRig("tree", files: 12, perFile: 25, sleep: 0.05)
        let run = try rig.start(["run", "--mp", "-n", "3", "--lease", "600"])
        try rig.waitForResults(40)
        let tree = Processes.tree(run.pid)
        #expect(tree.count >= 7, "arun run, 3 workers, 3 pytest: \(tree.map(Processes.commandLine))")
        for pid in tree { kill(pid, SIGKILL) }
        _ = try run.wait()
        #expect(Processes.waitGone(tree).isEmpty)
        #expect(try rig.status() == "running", "nobody has settled it yet")
        let resumed = try rig.arun(["run", "--resume", "--mp", "-n", "3"], timeout: 240)
        #expect(try rig.status() == "complete")
        let tally = try rig.tally()
        rig.record("kill -9 of the whole tree, then --resume (lease 600 s)", tally, exit: resumed.status)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(tally.exactlyOnce, "\(tally)")
        // The dead workers' jobs went back at once: never more busy than there are workers.
        for line in resumed.stdout.split(separator: "\n") {
            guard let range = line.range(of: #"\d+/\d+ workers busy"#, options: .regularExpression) else { continue }
            let numbers = line[range].split(separator: " ")[0].split(separator: "/").compactMap { Int($0) }
            #expect(numbers.count == 2 && numbers[0] <= numbers[1], "\(line)")
        }
    }

    /// One Ctrl-C to `arun run --mp` (the terminal signals the foreground group): "stopping"
    /// is said once, every process ends, and the resume finishes every test once.
    @Test func oneInterruptSaysStoppingOnce() throws {
        let rig = try FaultRig("ctrl-c", files: 12, perFile: 25, sleep: 0.05)
        let run = try rig.start(["run", "--mp", "-n", "3"])
        try rig.waitForResults(30)
        let below = Array(Processes.tree(run.pid).dropFirst())
        // Never the test runner's own group.
        let group = getpgid(run.pid)
        if group > 1 && group != getpgrp() { kill(-group, SIGINT) } else { kill(run.pid, SIGINT) }
        let output = try run.wait()
        #expect(output.status == 2, "\(output.stdout)\(output.stderr)")
        #expect(output.stderr.components(separatedBy: "stopping").count - 1 == 1, "\(output.stderr)")
        #expect(Processes.waitGone(below).isEmpty)
        let resumed = try rig.arun(["run", "--resume"])
        let tally = try rig.tally()
        rig.record("one SIGINT to `arun run --mp -n 3`, then --resume", tally, exit: output.status)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(tally.exactlyOnce, "\(tally)")
    }

    /// Only the parent is killed: its `arun work` children and their pytest follow it.
    @Test(arguments: ["--mp", "--mt"]) func workersDieWithTheirParent(mode: String) throws {
        let rig = try FaultRig("orphans", files: 12, perFile: 25, sleep: 0.05)
        let run = try rig.start(["run", mode, "-n", "2"])
        try rig.waitForResults(30)
        let below = Array(Processes.tree(run.pid).dropFirst())
        #expect(!below.isEmpty)
        kill(run.pid, SIGKILL)
        _ = try run.wait()
        let left = Processes.waitGone(below)
        #expect(left.isEmpty, "orphans: \(left.map(Processes.commandLine))")
        let resumed = try rig.arun(["run", "--resume"], timeout: 240)
        #expect(try rig.status() == "complete")
        let tally = try rig.tally()
        rig.record("kill -9 of `arun run \(mode)` alone, then --resume", tally, exit: resumed.status)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(tally.exactlyOnce, "\(tally)")
    }

    /// A worker frozen past its lease: another takes its job; thawed, it finds its claim
    /// gone and records nothing twice.
    @Test func stoppedWorkerPastItsLease() throws {
        let rig = try FaultRig("sigstop", files: 10, perFile: 20, sleep: 0.05)
        let run = try rig.start(["run", "--mp", "-n", "2", "--lease", "3"])
        try rig.waitForResults(20)
        let victim = try #require(Processes.workers(of: run.pid).first)
        kill(victim, SIGSTOP)
        sleep(8)
        kill(victim, SIGCONT)
        let output = try run.wait()
        let tally = try rig.tally()
        rig.record("SIGSTOP of a worker for 8 s (lease 3 s)", tally, exit: output.status)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(tally.exactlyOnce, "\(tally)")
    }

    /// Two runs on one database file at once, one with processes, one with tasks.
    @Test func twoRunsAtOnceOnOneFile() throws {
        let rig = try FaultRig("two-runs", files: 8, perFile: 20, sleep: 0.03)
        let other = try TemporaryFolder("arun-fault-two-runs-b")
        try Suites.trivial(in: other, files: 6, perFile: 20, sleep: 0.03)
        let first = try rig.start(["run", "--mp", "-n", "2"])
        let second = try ChildProcess.start(Executables.arun, ["run", "-n", "2", "--db", rig.db], directory: other.path)
        let (a, b) = (try first.wait(), try second.wait())
        #expect(a.status == 0, "\(a.stdout)\(a.stderr)")
        #expect(b.status == 0, "\(b.stdout)\(b.stderr)")
        let runs = try rig.read { try Int64.fetchAll($0, sql: "SELECT id FROM runs ORDER BY id") }
        #expect(runs == [1, 2])
        let sizes = try rig.read { try Int.fetchAll($0, sql: "SELECT COUNT(*) FROM tests GROUP BY run_id ORDER BY COUNT(*)") }
        #expect(sizes == [120, 160])
        var lost = 0, duplicated = 0
        for id in runs {
            let expected = try rig.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM tests WHERE run_id = ?", arguments: [id]) ?? 0 }
            let tally = try rig.tally(run: id, expected: expected)
            #expect(tally.exactlyOnce, "run \(id): \(tally)")
            lost += tally.lost
            duplicated += tally.duplicated
        }
        rig.record("two `arun run` at once on one file (--mp and --mt)",
                   FaultRig.Tally(expected: 280, known: 280, withResult: 280 - lost, rows: 280 - lost + duplicated,
                                  outcomes: [:]), exit: max(a.status, b.status))
    }
}
