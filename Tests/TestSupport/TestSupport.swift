import Foundation

/// A temporary folder removed when the value is deinitialised.
public final class TemporaryFolder: @unchecked Sendable {
    public let url: URL

    public init(_ label: String = "arun-test") throws {
        url = FileManager.default.temporaryDirectory.appending(path: "\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var path: String { url.path }

    public func file(_ name: String) -> String { url.appending(path: name).path }

    /// Writes `contents` at the relative `name`, creating folders.
    @discardableResult
    public func write(_ name: String, _ contents: String) throws -> String {
        let target = url.appending(path: name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: target, atomically: true, encoding: .utf8)
        return target.path
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The package's built executables (`swift build` puts them in `.build/debug`).
public enum Executables {
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Path of a product built beside the test bundle, or in `.build/debug`.
    public static func path(_ name: String) -> String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: name)
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside.path }
        return packageRoot.appending(path: ".build/debug/\(name)").path
    }

    public static var arun: String { path("arun") }
    public static var bench: String { path("arun-bench") }
}

/// What a finished child process printed and returned.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// True when the process ended by a signal (status then holds it).
    public var signaled: Bool
}

/// Starts child processes directly (no shell) and collects their output.
public enum ChildProcess {
    /// Runs to completion. Output goes through files so a chatty child never blocks on a full pipe.
    public static func run(_ executable: String, _ arguments: [String], directory: String? = nil,
                           environment: [String: String] = [:], timeout: Double = 300) throws -> ProcessOutput {
        let process = try start(executable, arguments, directory: directory, environment: environment)
        return try process.wait(timeout: timeout)
    }

    public static func start(_ executable: String, _ arguments: [String], directory: String? = nil,
                             environment: [String: String] = [:]) throws -> RunningProcess {
        try RunningProcess(executable, arguments, directory: directory, environment: environment)
    }
}

/// A child process whose output is captured in temporary files.
public final class RunningProcess: @unchecked Sendable {
    public let process = Process()
    private let out: URL
    private let err: URL

    init(_ executable: String, _ arguments: [String], directory: String?, environment: [String: String]) throws {
        let folder = FileManager.default.temporaryDirectory
        let id = UUID().uuidString
        out = folder.appending(path: "arun-child-\(id).out")
        err = folder.appending(path: "arun-child-\(id).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }

    /// What the process has printed so far.
    public var stdoutSoFar: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
    public var stderrSoFar: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits until the process prints `text` on stdout (or stderr), or throws after `timeout`.
    public func waitForOutput(containing text: String, timeout: Double = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stdoutSoFar.contains(text) || stderrSoFar.contains(text) { return }
            if !process.isRunning {
                if stdoutSoFar.contains(text) || stderrSoFar.contains(text) { return }
                throw ChildError.exitedEarly(stdoutSoFar + stderrSoFar)
            }
            usleep(20_000)
        }
        throw ChildError.timedOut("waiting for \(text): " + stdoutSoFar + stderrSoFar)
    }

    public func wait(timeout: Double = 300) throws -> ProcessOutput {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw ChildError.timedOut(stdoutSoFar + stderrSoFar)
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        return ProcessOutput(status: process.terminationStatus, stdout: stdoutSoFar, stderr: stderrSoFar,
                             signaled: process.terminationReason == .uncaughtSignal)
    }
}

public enum ChildError: Error, CustomStringConvertible {
    case exitedEarly(String)
    case timedOut(String)

    public var description: String {
        switch self {
        case let .exitedEarly(output): "child exited early: \(output)"
        case let .timedOut(output): "child timed out: \(output)"
        }
    }
}
