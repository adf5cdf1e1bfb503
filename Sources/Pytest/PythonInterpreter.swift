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

    /// Checks that the interpreter starts and imports pytest; returns pytest's version.
    public func checkPytest() async throws -> String {
        let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        do {
            result = try await Subprocess.run(
                executable,
                arguments: ["-c", "import pytest, sys; sys.stdout.write(pytest.__version__)"],
                output: .string(limit: 4096), error: .string(limit: 65536))
        } catch {
            throw PytestError.pythonMissing(command)
        }
        guard case .exited(0) = result.terminationStatus else {
            if case .exited(127) = result.terminationStatus { throw PytestError.pythonMissing(command) }
            throw PytestError.pytestMissing(python: command)
        }
        return result.standardOutput
    }
}
