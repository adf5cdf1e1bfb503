import Foundation
import Subprocess
import SystemPackage

/// What serial pytest says about collecting the suite, asked when a worker's pytest
/// refused it (INTERNALERROR). Workers collect their own jobs, so the item a worker met
/// first is not always the one serial pytest meets first ("… says no to test_c" where
/// pytest says "test_a"); pytest itself, collecting in its own order, names the one a
/// pytest user sees. `--collect-only` runs no test, and pytest stops at the first error.
public struct SerialVerdict: Sendable, Equatable {
    /// pytest's exit code.
    public var status: Int32
    /// pytest's `INTERNALERROR>` lines, the exception last (at most the last 20).
    public var internalError: [String]

    /// Collects as `pytest --collect-only` with the run's paths and arguments would, in
    /// `directory`. Nil when pytest did not refuse, did not finish within `timeout`
    /// seconds, or could not start: the caller keeps the worker's own verdict.
    public static func ask(python: PythonInterpreter, directory: String, paths: [String], pytestArgs: [String],
                           timeout: Double = 60) async -> SerialVerdict? {
        let arguments = ["-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"] + paths + pytestArgs
        let run: @Sendable () async -> SerialVerdict? = {
            guard let result = try? await Subprocess.run(
                python.executable, arguments: Arguments(arguments),
                workingDirectory: FilePath(directory),
                output: .string(limit: 1 << 20), error: .string(limit: 1 << 20)) else { return nil }
            guard case let .exited(status) = result.terminationStatus else { return nil }
            let text = result.standardOutput + "\n" + result.standardError
            let lines = text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("INTERNALERROR>") }
            guard !lines.isEmpty else { return nil }
            return SerialVerdict(status: status, internalError: Array(lines.suffix(20)))
        }
        return await withTaskGroup(of: SerialVerdict?.self) { group in
            group.addTask { await run() }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
