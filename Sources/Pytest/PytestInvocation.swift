import Foundation
import Subprocess
import SystemPackage

/// How arun starts pytest: `python -m pytest -p arun_plugin PATHS ARGS MODE-ARGS`,
/// in the run's directory, in a process group of its own, with the plugin on PYTHONPATH.
public struct PytestInvocation: Sendable {
    public var python: PythonInterpreter
    public var directory: String
    public var paths: [String]
    public var pytestArgs: [String]

    public init(python: PythonInterpreter, directory: String, paths: [String], pytestArgs: [String]) {
        self.python = python
        self.directory = directory
        self.paths = paths
        self.pytestArgs = pytestArgs
    }

    /// The swift-subprocess configuration for one pytest process.
    /// `modeArguments` select the plugin's mode (`--arun-collect=…`); `environment` adds variables.
    public func configuration(modeArguments: [String], environment extra: [String: String] = [:]) throws -> Configuration {
        let pluginFolder = try PluginFiles.install()
        let inherited = ProcessInfo.processInfo.environment["PYTHONPATH"].flatMap { $0.isEmpty ? nil : $0 }
        var updates: [Environment.Key: String?] = [
            "PYTHONPATH": ([pluginFolder.path] + (inherited.map { [$0] } ?? [])).joined(separator: ":"),
        ]
        for (key, value) in extra { updates[Environment.Key(stringLiteral: key)] = value }
        var options = PlatformOptions()
        // Its own group, so a kill reaches the tests' own children too and no
        // grandchild keeps our pipes open.
        options.processGroupID = 0
        return Configuration(
            executable: python.executable,
            arguments: Arguments(["-m", "pytest", "-p", PluginFiles.moduleName] + paths + pytestArgs + modeArguments),
            environment: .inherit.updating(updates),
            workingDirectory: FilePath(directory),
            platformOptions: options)
    }
}
