import Foundation
import Testing
import TestSupport

/// Suites that pytest refuses before running a test (issue 16): arun must stop the same
/// way, with pytest's exit code and pytest's own error line, and record nothing passed.
/// Each case runs serial pytest on the same suite first: its verdict is the truth.
@Suite(.serialized) struct RefusalTests {
    static let strict = "[pytest]\nfilterwarnings =\n    error\n"
    static let passing = "def test_a():\n    pass\n\ndef test_b():\n    pass\n"

    /// A suite with `filterwarnings = error`, two passing files and `extra` files.
    func suite(_ extra: [String: String]) throws -> ArunHarness {
        let arun = try ArunHarness("arun-refusal")
        _ = try arun.folder.write("pytest.ini", Self.strict)
        _ = try arun.folder.write("test_one.py", Self.passing)
        _ = try arun.folder.write("test_two.py", "def test_c():\n    pass\n")
        for (name, text) in extra { _ = try arun.folder.write(name, text) }
        return arun
    }

    func serial(_ arun: ArunHarness, _ arguments: [String] = []) throws -> ProcessOutput {
        try ChildProcess.run("/usr/bin/env", ["python3", "-m", "pytest", "-p", "no:cacheprovider"] + arguments,
                             directory: arun.folder.path, timeout: 300)
    }

    /// pytest's telling line: the last `INTERNALERROR>` line (the exception), else `needle`'s line.
    func telling(_ text: String, containing needle: String = "INTERNALERROR>") -> String? {
        text.split(separator: "\n").map(String.init).last { $0.contains(needle) }
    }

    func passed(_ arun: ArunHarness) throws -> [String] {
        try arun.results().filter { $0.outcome == "passed" }.map(\.nodeid)
    }

    /// Asserts pytest exits `code` with an INTERNALERROR, and arun the same with pytest's line.
    func expectInternalError(_ extra: [String: String], arunArguments: [String] = ["run", "-n", "2"],
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let arun = try suite(extra)
        let pytest = try serial(arun)
        #expect(pytest.status == 3, "\(pytest.stdout)\(pytest.stderr)", sourceLocation: sourceLocation)
        let line = try #require(telling(pytest.stdout + pytest.stderr), sourceLocation: sourceLocation)
        let output = try arun.arun(arunArguments)
        #expect(output.status == 3, "\(output.stdout)\(output.stderr)", sourceLocation: sourceLocation)
        let first = output.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains(line), "arun: \(first)\npytest: \(line)", sourceLocation: sourceLocation)
        #expect(!first.contains("Fatal error") && !output.stderr.contains("Swift/"), sourceLocation: sourceLocation)
        if FileManager.default.fileExists(atPath: arun.db) {
            #expect(try passed(arun) == [], sourceLocation: sourceLocation)
        }
    }

    @Test func warningInACollectionHookIsAnInternalError() throws {
        try expectInternalError(["conftest.py": """
            import warnings
            def pytest_collection_modifyitems(items):
                warnings.warn(UserWarning("modifyitems says no"))
            """])
    }

    /// Raised only once items exist: the planner's file listing never sees it, the workers do.
    @Test func warningPerCollectedItemStopsTheWorkers() throws {
        try expectInternalError(["conftest.py": """
            import warnings
            def pytest_itemcollected(item):
                warnings.warn(UserWarning("itemcollected says no to " + item.name))
            """])
    }

    @Test func pluginRaisingInSessionStartIsAnInternalError() throws {
        try expectInternalError(["conftest.py": """
            def pytest_sessionstart(session):
                raise RuntimeError("sessionstart says no")
            """])
    }

    @Test func warningAtImportIsACollectionErrorThatStopsTheRun() async throws {
        let arun = try suite(["test_warn.py": "import warnings\nwarnings.warn(UserWarning('import says no'))\n\ndef test_w():\n    pass\n"])
        let pytest = try serial(arun)
        #expect(pytest.status == 2)
        #expect(pytest.stdout.contains("ERROR collecting test_warn.py"))
        let message = "UserWarning: import says no"
        #expect(pytest.stdout.contains(message))
        // Planned by marks, the suite is collected before anything runs: nothing runs.
        let output = try arun.arun(["run", "-n", "2", "--dist-mark", "not nothing"])
        #expect(output.status == 2, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("test_warn.py") && output.stdout.contains(message),
                "\(output.stdout)")
        #expect(try passed(arun) == [])
        let problems = try await arun.queue().collectionErrors(run: 1)
        #expect(problems.map(\.location) == ["test_warn.py"])
        // Planned by files, the worker that collects it finds it: the same code and error.
        let byFiles = try ArunHarness("arun-refusal")
        for name in ["pytest.ini", "test_one.py", "test_two.py", "test_warn.py"] {
            _ = try byFiles.folder.write(name, try String(contentsOfFile: arun.folder.file(name), encoding: .utf8))
        }
        let lazy = try byFiles.arun(["run", "-n", "1"])
        #expect(lazy.status == 2, "\(lazy.stdout)\(lazy.stderr)")
        let found = try await byFiles.queue().collectionErrors(run: 1)
        #expect(found.first?.message.contains("import says no") == true, "\(found)")
    }

    @Test func unknownMarkerWithStrictMarkersIsACollectionError() throws {
        let arun = try suite(["test_mark.py": "import pytest\n\n@pytest.mark.slowish\ndef test_m():\n    pass\n"])
        let pytest = try serial(arun, ["--strict-markers"])
        #expect(pytest.status == 2)
        let line = "'slowish' not found in `markers` configuration option"
        #expect(pytest.stdout.contains("ERROR collecting test_mark.py") && pytest.stdout.contains(line))
        let output = try arun.arun(["run", "-n", "2", "--dist-mark", "not nothing", "--", "--strict-markers"])
        #expect(output.status == 2, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("test_mark.py: " + line), "arun: \(output.stdout)\npytest: \(line)")
        #expect(try passed(arun) == [])
        // --continue-on-collection-errors: both run what did collect.
        let going = try arun.arun(["run", "-n", "2", "--dist-mark", "not nothing", "--",
                                   "--strict-markers", "--continue-on-collection-errors"])
        let serialGoing = try serial(arun, ["--strict-markers", "--continue-on-collection-errors"])
        #expect(serialGoing.stdout.contains("3 passed"))
        #expect(going.stdout.contains("3 passed"), "\(going.stdout)")
    }

    /// pytest applies filterwarnings to collection, not to pytest_configure: both run.
    @Test func warningInConfigureIsNotARefusal() throws {
        let arun = try suite(["conftest.py": """
            import warnings
            def pytest_configure(config):
                warnings.warn(DeprecationWarning("configure"))
            """])
        #expect(try serial(arun).status == 0)
        let output = try arun.arun(["run", "-n", "2"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(try passed(arun).count == 3)
    }
}
