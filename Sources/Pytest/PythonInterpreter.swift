import Foundation
import Subprocess
import SystemPackage

/// The Python that runs pytest: `--python`, else `ARUN_PYTHON`, else the Python beside
/// arun's own executable, else `python3` on PATH.
///
/// "Beside" is what `pip install` into a virtual environment (or conda env, or a
/// Python's own prefix) gives: `ENV/bin/arun` next to `ENV/bin/python3`. That is
/// the environment the user installed arun for, whether or not it is activated.
public struct PythonInterpreter: Sendable, Equatable {
    /// As the user gave it (a name looked up on PATH, or a path).
    public var command: String

    public init(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                executableDirectory: String? = PythonInterpreter.ownDirectory) {
        command = explicit.flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["ARUN_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
            ?? executableDirectory.flatMap(Self.beside)
            ?? "python3"
    }

    /// The folder of the running executable, symlinks resolved (a link to `ENV/bin/arun`
    /// still finds ENV's Python).
    public static let ownDirectory: String? = {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments.first.flatMap { $0.contains("/") ? $0 : nil }
        return path.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
    }()

    /// An executable `python3` or `python` in this folder.
    static func beside(_ directory: String) -> String? {
        ["python3", "python"]
            .map { URL(fileURLWithPath: directory).appending(path: $0).path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
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
