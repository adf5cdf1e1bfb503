import Foundation
import Pytest
import Subprocess
import SystemPackage

/// What one pytest collection found.
public struct Collection: Sendable {
    public var tests: [CollectedTest]
    /// With ``Collector/discoverFiles()``: the test files, rootdir-relative; their tests are not collected.
    public var files: [String] = []
    public var errors: [PluginEvent.CollectionError]
    /// pytest's rootdir: node ids and `file`s are relative to it.
    public var rootdir: String
}

/// Runs pytest's own collection with the arun plugin, so the test set is exactly what
/// `pytest PATHS ARGS` would run, and mark expressions are judged by pytest itself.
public struct Collector: Sendable {
    public var invocation: PytestInvocation

    public init(invocation: PytestInvocation) {
        self.invocation = invocation
    }

    /// Collects, evaluating each of `expressions` (pytest `-m` syntax) against every test.
    public func collect(expressions: [String] = []) async throws -> Collection {
        try await run(expressions: expressions, filesOnly: false)
    }

    /// Lists the test files pytest would collect (its python_files, testpaths,
    /// norecursedirs, conftest ignores) without importing any of them: jobs of whole
    /// files are then collected once, by the worker that runs them.
    public func discoverFiles() async throws -> Collection {
        try await run(expressions: [], filesOnly: true)
    }

    func run(expressions: [String], filesOnly: Bool) async throws -> Collection {
        let folder = FileManager.default.temporaryDirectory.appending(path: "arun-collect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appending(path: "collected.jsonl")
        let expressionsFile = folder.appending(path: "expressions.json")
        try JSONEncoder().encode(expressions).write(to: expressionsFile)
        let config = try invocation.configuration(modeArguments: [
            "--arun-collect=\(output.path)", "--arun-exprs=\(expressionsFile.path)", "-q",
        ] + (filesOnly ? ["--arun-files"] : []))
        let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        do {
            result = try await Subprocess.run(config, output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        } catch {
            throw PytestError.pythonMissing(invocation.python.command)
        }
        let console = result.standardOutput + result.standardError
        var collection = Collection(tests: [], errors: [], rootdir: invocation.directory)
        var finished = false
        let data = (try? Data(contentsOf: output)) ?? Data()
        for line in data.split(separator: 0x0A) {
            guard let event = PluginEvent.decode(line) else { continue }
            switch event.ev {
            case .item:
                guard let nodeid = event.nodeid else { continue }
                collection.tests.append(CollectedTest(nodeid: nodeid, file: event.file, marks: event.marks ?? [],
                                                      matches: event.matches ?? []))
            case .file:
                if let file = event.file { collection.files.append(file) }
            case .collectError:
                collection.errors.append(.init(location: event.location ?? "?", message: event.message ?? ""))
            case .badExpr:
                throw PlanError.badExpression(event.expr ?? "?", reason: event.message ?? "")
            case .done:
                finished = true
                if let rootdir = event.rootdir { collection.rootdir = rootdir }
            default:
                continue
            }
        }
        // INTERNALERROR (a collection hook raised, a warning made an error by
        // filterwarnings): pytest may still end its session, so `done` can be there.
        guard finished, result.terminationStatus != .exited(3) else {
            if console.contains("No module named pytest") {
                throw PytestError.pytestMissing(python: invocation.python.command)
            }
            if case .exited(127) = result.terminationStatus { throw PytestError.pythonMissing(invocation.python.command) }
            if case .exited(4) = result.terminationStatus {
                throw PlanError.pytestUsage(Self.lastLine(of: console))
            }
            var code: Int32?
            if case let .exited(status) = result.terminationStatus { code = status }
            throw PlanError.collectionFailed(status: "\(result.terminationStatus)", output: Self.lastLine(of: console),
                                             code: code)
        }
        return collection
    }

    /// The most telling line of pytest's output: its last `ERROR:` line, else the last non-blank one.
    static func lastLine(of text: String) -> String {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.last { $0.lowercased().contains("error:") && !$0.contains("usage:") }
            ?? lines.last { $0.hasPrefix("ERROR") || $0.hasPrefix("E ") } ?? lines.last ?? "no output"
    }
}
