import Foundation
import Pytest
import Testing
import TestSupport

/// Which Python runs pytest: --python, else ARUN_PYTHON, else the one beside arun (its venv), else python3.
struct PythonInterpreterTests {
    @Test func theEnvironmentArunLivesInComesAfterExplicitChoices() throws {
        let folder = try TemporaryFolder("arun-python")
        let bin = folder.file("venv/bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let python = try folder.write("venv/bin/python3", "#!/bin/sh\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: python)

        #expect(PythonInterpreter(environment: [:], executableDirectory: bin).command == python)
        #expect(PythonInterpreter(environment: ["ARUN_PYTHON": "/opt/py"], executableDirectory: bin).command == "/opt/py")
        #expect(PythonInterpreter(explicit: "/x/py", environment: ["ARUN_PYTHON": "/opt/py"],
                                  executableDirectory: bin).command == "/x/py")
        // A file that is not executable is no interpreter; no folder, no interpreter: PATH's python3.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: python)
        #expect(PythonInterpreter(environment: [:], executableDirectory: bin).command == "python3")
        #expect(PythonInterpreter(environment: [:], executableDirectory: nil).command == "python3")
    }
}
