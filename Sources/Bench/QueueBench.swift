import ArgumentParser
import Foundation
import Queue

/// Claim+complete throughput: N jobs, P OS processes draining one database.
struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Claim+complete throughput over N jobs with P processes.")

    @Option(help: "Jobs to enqueue.") var jobs = 20_000
    @Option(help: "Worker processes.") var procs = 4
    @Option(help: "Database path or postgresql:// URL (default: a fresh temporary file).") var db: String?
    @Option(name: .customLong("synchronous-commit"), help: "PostgreSQL only: the sessions' synchronous_commit.")
    var synchronousCommit = PostgresQueueConfiguration().synchronousCommit
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "arun-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = db ?? folder.appending(path: "queue.db").path
        let queue = try await BenchQueue.open(path, synchronousCommit: synchronousCommit)
        // The URL (and its password) reaches the drains through the environment.
        let postgres = queue as? PostgresQueue
        if postgres != nil { setenv("ARUN_DB", path, 1) }
        let run = try await queue.createRun(NewRun(name: "bench"))
        try await queue.enqueue((0..<jobs).map { NewJob(name: "job-\($0)", estimatedSeconds: Double($0 % 97)) },
                                into: run.id)

        let outputs = (0..<procs).map { folder.appending(path: "claims-\($0).txt").path }
        let children = try outputs.map { output in
            try spawn(CommandLine.arguments[0],
                      (postgres == nil ? ["drain", "--db", path] : ["drain", "--synchronous-commit", synchronousCommit])
                        + ["--run", String(run.id), "--out", output])
        }
        for child in children {
            child.waitUntilExit()
            guard child.terminationStatus == 0 else { throw ValidationError("a drain process failed") }
        }
        // Each drain writes "start end" then one claimed job id per line.
        var claimed: [JobID] = []
        var starts: [Double] = []
        var ends: [Double] = []
        for output in outputs {
            let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
            guard let first = lines.first else { continue }
            let span = first.split(separator: " ").compactMap { Double($0) }
            if span.count == 2 { starts.append(span[0]); ends.append(span[1]) }
            claimed += lines.dropFirst().compactMap { JobID($0) }
        }
        let seconds = (ends.max() ?? 0) - (starts.min() ?? 0)
        let counts = try await queue.counts(run: run.id)
        let duplicates = claimed.count - Set(claimed).count
        let lost = jobs - counts[.done]
        let perSecond = seconds > 0 ? Double(jobs) / seconds : 0
        // PostgreSQL adds the setting its sessions ran with, as the server reports it.
        let setting = try await postgres?.synchronousCommit()
        let extra = setting.map { #","backend":"postgresql","synchronous_commit":"\#($0)""# } ?? ""
        if json {
            print(#"{"jobs":\#(jobs),"procs":\#(procs),"seconds":\#(String(format: "%.3f", seconds)),"per_second":\#(Int(perSecond)),"duplicates":\#(duplicates),"lost":\#(lost)\#(extra)}"#)
        } else {
            print("\(jobs) jobs, \(procs) processes: \(String(format: "%.2f", seconds)) s, \(Int(perSecond))/s, "
                  + "\(duplicates) duplicates, \(lost) lost" + (setting.map { ", synchronous_commit=\($0)" } ?? ""))
        }
        if duplicates != 0 || lost != 0 { throw ExitCode(1) }
    }
}

/// Starts a child process with inherited standard streams.
func spawn(_ executable: String, _ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    try process.run()
    return process
}
