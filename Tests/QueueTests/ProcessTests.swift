import Foundation
import Queue
import TestSupport
import Testing

/// Real OS processes sharing one database file.
@Suite(.serialized) struct ProcessTests {
    @Test func fourProcessesDrainTwentyThousandJobsExactlyOnce() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("q.db")
        let queue = try SQLiteQueue(path: path)
        let run = try await queue.createRun(NewRun(name: "drain"))
        try await queue.enqueue((0..<20_000).map { NewJob(name: "j\($0)", estimatedSeconds: Double($0 % 13)) }, into: run.id)
        let outputs = (0..<4).map { folder.file("claims-\($0).txt") }
        let children = try outputs.map {
            try ChildProcess.start(Executables.bench, ["drain", "--db", path, "--run", String(run.id), "--out", $0])
        }
        for child in children {
            let result = try child.wait(timeout: 600)
            #expect(result.status == 0, "\(result.stderr)")
        }
        var claimed: [JobID] = []
        for output in outputs {
            let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").dropFirst()
            claimed += lines.compactMap { JobID($0) }
        }
        #expect(claimed.count == 20_000)
        #expect(Set(claimed).count == 20_000, "no job claimed twice")
        let counts = try await queue.counts(run: run.id)
        #expect(counts[.done] == 20_000)
        #expect(counts.open == 0)
    }

    @Test func killedHolderLosesNothing() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("q.db")
        let queue = try SQLiteQueue(path: path)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue([NewJob(name: "held", tests: [NewTest(nodeid: "t.py::one")])], into: run.id)
        let holder = try ChildProcess.start(Executables.bench, ["hold", "--db", path, "--run", String(run.id), "--lease", "1"])
        try holder.waitForOutput(containing: "hold-")
        let fields = holder.stdoutSoFar.split(separator: " ")
        let jobID = try #require(JobID(fields[0]))
        let owner = String(fields[2]).trimmingCharacters(in: .whitespacesAndNewlines)
        holder.signal(SIGKILL)
        let ended = try holder.wait()
        #expect(ended.signaled && ended.status == SIGKILL)

        #expect(try await queue.claim(run: run.id, worker: "next", lease: 60) == nil, "lease not yet expired")
        try await Task.sleep(nanoseconds: 1_200_000_000)
        #expect(try await queue.reclaimExpired() == 1)
        let claim = try #require(try await queue.claim(run: run.id, worker: "next", lease: 60))
        #expect(claim.jobID == jobID && claim.attempt == 2)

        // The dead owner's late writes, replayed with its claim, change nothing.
        let ghost = Claim(jobID: jobID, runID: run.id, name: "held", owner: owner, attempt: 1, maxAttempts: 3,
                          estimatedSeconds: 0, leaseExpiresAt: 0, payload: "")
        let tests = try await queue.pendingTests(of: claim)
        #expect(try await queue.record([TestResult(testID: tests[0].testID, attempt: 1, outcome: .failed)],
                                       for: ghost, worker: owner) == false)
        #expect(try await queue.complete(ghost) == false)
        #expect(try await queue.counts(run: run.id)[.running] == 1)
        #expect(try await queue.record([TestResult(testID: tests[0].testID, attempt: 1, outcome: .passed)],
                                       for: claim, worker: "next"))
        #expect(try await queue.complete(claim))
        #expect(try await queue.counts(run: run.id)[.done] == 1)
    }

    @Test func fourProcessesMigratingOneFreshFileNeverFail() throws {
        let folder = try TemporaryFolder()
        for round in 0..<20 {
            let path = folder.file("fresh-\(round).db")
            let children = try (0..<4).map { _ in try ChildProcess.start(Executables.bench, ["migrate", "--db", path]) }
            for child in children {
                let result = try child.wait()
                #expect(result.status == 0, "round \(round): \(result.stderr)")
                #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) != "0")
            }
        }
    }
}
