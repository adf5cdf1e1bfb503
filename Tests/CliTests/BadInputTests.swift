import Foundation
import Queue
import TestSupport
import Testing

/// Bad input: one line on stderr, the documented exit code, nothing written, no crash.
@Suite struct BadInputTests {
    static func suite() throws -> ArunHarness {
        let arun = try ArunHarness("arun-bad")
        try arun.folder.write("tests/test_a.py", "def test_a():\n    pass\n")
        try arun.folder.write("tests/sub/test_b.py", "def test_b():\n    pass\n")
        try arun.folder.write("empty/README", "no tests here\n")
        return arun
    }

    static let cases: [(arguments: [String], code: Int32, words: String)] = [
        (["enqueue", "nope/"], 4, "no such file"),
        (["enqueue", "--dist-file", "missing"], 4, "not a directory"),
        (["enqueue", "--dist-suite", "empty"], 4, "no tests collected"),
        (["enqueue", "--dist-mark", "smoke and"], 4, "invalid mark expression"),
        (["enqueue", "--dist-mark", "a", "--dist-suite", "tests"], 4, "cannot be combined"),
        (["enqueue", "--shard-count", "2", "--shard-index", "2"], 4, "shard"),
        (["enqueue", "--shard-count", "2", "--shard-index", "-1"], 4, "shard"),
        (["enqueue", "--shard-count", "2"], 4, "go together"),
        (["enqueue", "-n", "0"], 4, "-n"),
        (["enqueue", "--strategy", "conf/empty.yaml"], 4, "empty"),
        (["enqueue", "--strategy", "conf/list.yaml"], 4, "mapping"),
        (["enqueue", "--strategy", "conf/unknown.yaml"], 4, "hpc"),
        (["enqueue", "--python", "/nonexistent/python3"], 4, "python"),
        (["run", "--frobnicate"], 4, "frobnicate"),
        (["report", "--run", "42"], 4, "no run 42"),
        (["run", "tests", "--", "--no-such-pytest-flag"], 4, "pytest"),
    ]

    @Test(arguments: cases.indices)
    func refused(_ index: Int) async throws {
        let arun = try Self.suite()
        try arun.folder.write("conf/empty.yaml", "# nothing\n")
        try arun.folder.write("conf/list.yaml", "- a\n- b\n")
        try arun.folder.write("conf/unknown.yaml", "target: ['hpc']\nmarks:\n  iaas: [a]\n")
        let (arguments, code, words) = Self.cases[index]
        if arguments[0] == "report" { _ = try arun.arun(["enqueue", "tests"]) }
        let output = try arun.arun(arguments)
        #expect(output.status == code, "\(arguments): \(output.stdout) \(output.stderr)")
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(output.stderr)")
        #expect(output.stderr.lowercased().contains(words.lowercased()), "\(output.stderr)")
        #expect(!output.stderr.contains("Fatal error") && !output.stderr.contains("Stack"))
        if arguments[0] == "enqueue" {
            let runs = (try? await arun.queue().runIDs()) ?? []
            #expect(runs.isEmpty, "nothing written for \(arguments)")
        }
    }

    @Test func notADatabaseIsRefused() async throws {
        let arun = try Self.suite()
        let path = try arun.folder.write("notes.txt", "my notes\n")
        let output = try ChildProcess.run(Executables.arun, ["runs", "--db", path], directory: arun.folder.path)
        #expect(output.status == 4)
        #expect(output.stderr.contains("not an arun database"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "my notes\n")
    }

    @Test func unwritableDatabaseLocationIsRefused() async throws {
        let arun = try Self.suite()
        let blocker = try arun.folder.write("file", "x")
        let output = try ChildProcess.run(Executables.arun, ["enqueue", "tests", "--db", blocker + "/db.sqlite"],
                                          directory: arun.folder.path)
        #expect(output.status == 4)
        #expect(output.stderr.split(separator: "\n").count == 1)
        #expect(output.stderr.contains("--db"))
    }

    @Test func noTestsExitsFive() async throws {
        let arun = try Self.suite()
        let output = try arun.arun(["run", "empty"])
        #expect(output.status == 5, "\(output.stdout) \(output.stderr)")
    }
}
