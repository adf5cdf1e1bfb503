import Foundation
import Subprocess
import SystemPackage

/// The Python that runs pytest: `--python`, else `ARUN_PYTHON`, else `python3` on PATH.
public struct PythonInterpreter: Sendable, Equatable {
    /// As the user gave it (a name looked up on PATH, or a path).
    public var command: String

    public init(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        command = explicit.flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["ARUN_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "python3"
    }

    /// The executable for swift-subprocess: a path when the command has a slash, else a PATH lookup.
    public var executable: Executable {
        command.contains("/") ? .path(FilePath(command)) : .name(command)
    }

    /// The interpreter's own executable path (`sys.executable`), after checking that it
    /// imports pytest. A `python3` found on PATH is often a shim (pyenv's is a bash script
    /// that costs ~0.2 s per launch); arun launches the real file every time after this.
    public func resolved() async throws -> PythonInterpreter {
        let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        do {
            result = try await Subprocess.run(
                executable,
                arguments: ["-c", "import sys, pytest; sys.stdout.write(sys.executable)"],
                output: .string(limit: 4096), error: .string(limit: 65536))
        } catch {
            throw PytestError.pythonMissing(command)
        }
        guard case .exited(0) = result.terminationStatus else {
            if case .exited(127) = result.terminationStatus { throw PytestError.pythonMissing(command) }
            throw PytestError.pytestMissing(python: command)
        }
        let path = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        return path.hasPrefix("/") ? PythonInterpreter(explicit: path) : self
    }
}
