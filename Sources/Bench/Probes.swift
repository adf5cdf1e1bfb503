import ArgumentParser
import Foundation
import Queue

// Small processes the queue's tests and benchmark start many of: real OS
// processes sharing one database file, so that claims, leases and migrations are
// exercised across processes, not only across threads.

/// Claims and completes jobs until none is left; writes "start end" then each claimed id.
struct DrainProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain", abstract: "Claim and complete jobs until the run is empty.", shouldDisplay: false)

    @Option var db: String?
    @Option var run: Int64
    @Option var out: String
    @Option var lease = 30.0
    @Option(name: .customLong("synchronous-commit")) var synchronousCommit = PostgresQueueConfiguration().synchronousCommit

    func run() async throws {
        let queue = try await BenchQueue.open(db, synchronousCommit: synchronousCommit)
        let worker = "drain-\(getpid())"
        var claimed: [JobID] = []
        claimed.reserveCapacity(50_000)
        let start = Date().timeIntervalSince1970
        var next = try await queue.claim(run: run, worker: worker, lease: lease)
        while let claim = next {
            claimed.append(claim.jobID)
            let handover = try await queue.completeAndClaim(claim, followUps: [], lease: lease)
            guard handover.completed else { throw ValidationError("lost claim \(claim.jobID)") }
            next = handover.next
        }
        let end = Date().timeIntervalSince1970
        let text = "\(start) \(end)\n" + claimed.map(String.init).joined(separator: "\n") + "\n"
        try text.write(toFile: out, atomically: true, encoding: .utf8)
    }
}

/// Claims one job, prints "jobID attempt", then sleeps until killed.
struct HoldProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Claim one job and hold it without heartbeats.", shouldDisplay: false)

    @Option var db: String
    @Option var run: Int64
    @Option var lease = 1.0

    func run() async throws {
        let queue = try SQLiteQueue(path: db)
        guard let claim = try await queue.claim(run: run, worker: "hold-\(getpid())", lease: lease) else {
            throw ExitCode(5)
        }
        FileHandle.standardOutput.write(Data("\(claim.jobID) \(claim.attempt) \(claim.owner)\n".utf8))
        while true { try await Task.sleep(nanoseconds: 1_000_000_000) }
    }
}

/// Opens (and so migrates) a database, then prints its schema version.
struct MigrateProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Open and migrate a database.", shouldDisplay: false)

    @Option var db: String

    func run() async throws {
        do {
            let queue = try SQLiteQueue(path: db)
            print(try queue.schemaVersion())
        } catch let error as QueueError {
            FileHandle.standardError.write(Data("arun-bench: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
    }
}
