import Foundation
import TestSupport
import Testing

/// `arun enqueue` and `arun work` against a real PostgreSQL server: faults, concurrent
/// migration, and workers that outlive a server restart.
@Suite(.enabled(if: PostgresServer.enabled, Comment(rawValue: PostgresServer.skipReason)), .serialized)
struct PostgresCliTests {
    /// A suite of `files` × `perFile` passing tests, each sleeping `sleep` seconds.
    static func suite(files: Int, perFile: Int, sleep: Double = 0) throws -> TemporaryFolder {
        let folder = try TemporaryFolder("arun-pg")
        for file in 0..<files {
            var body = "import time\n\n"
            for test in 0..<perFile {
                body += "def test_\(test)():\n    time.sleep(\(sleep))\n\n"
            }
            try folder.write("tests/test_f\(file).py", body)
        }
        return folder
    }

    static func arun(_ arguments: [String], in folder: TemporaryFolder, timeout: Double = 600) throws -> ProcessOutput {
        try ChildProcess.run(Executables.arun, arguments, directory: folder.path, timeout: timeout)
    }

    /// Every (nodeid, attempt, outcome) recorded for run 1, via psql.
    static func results(_ server: PostgresServer, database: String) throws -> [String] {
        try server.psql("""
            SELECT t.nodeid || ' ' || r.attempt || ' ' || r.outcome FROM results r JOIN tests t ON t.id = r.test_id
            WHERE r.run_id = 1 ORDER BY t.nodeid, r.attempt
            """, database: database).split(separator: "\n").map(String.init)
    }

    static func database(of url: String) -> String {
        String(url.split(separator: "/").last!.split(separator: "?").first!)
    }

    /// Server down, wrong password, missing database, bad URL: one line each on stderr,
    /// exit 4, the password nowhere.
    @Test func connectionFaultsAreOneLine() throws {
        let server = try PostgresServer.shared()
        let folder = try TemporaryFolder("arun-pg")
        // Paths are checked before the database is touched: give enqueue one that exists.
        try folder.write("tests/test_a.py", "def test_a():\n    pass\n")
        let cases: [(String, String)] = [
            ("postgresql://postgres:topsecret@127.0.0.1:1/x?sslmode=disable", "no PostgreSQL server answers"),
            (server.url(database: "postgres", user: PostgresServer.passwordUser, password: "topsecret"), "refused user"),
            (server.url(database: "nope_db", user: "postgres", password: "topsecret"), "has no database nope_db"),
            ("postgresql://postgres:topsecret@127.0.0.1", "not a usable database URL"),
        ]
        for (url, expected) in cases {
            for arguments in [["work", "--db", url], ["enqueue", "tests", "--db", url]] {
                let output = try Self.arun(arguments, in: folder)
                #expect(output.status == 4, "\(arguments): \(output.stderr)")
                #expect(output.stderr.contains(expected), "\(output.stderr)")
                #expect(output.stderr.split(separator: "\n").count == 1, "\(output.stderr)")
                #expect(!(output.stdout + output.stderr).contains("topsecret"))
            }
        }
        // ARUN_DB works the same way.
        let output = try ChildProcess.run(Executables.arun, ["work"], directory: folder.path,
                                          environment: ["ARUN_DB": cases[1].0])
        #expect(output.status == 4 && output.stderr.contains("refused user") && !output.stderr.contains("topsecret"))
    }

    /// Ten processes open one fresh database at once: every one gets past migration (and
    /// stops at the missing run), none fails on the schema.
    @Test func tenProcessesMigrateAFreshDatabase() throws {
        let server = try PostgresServer.shared()
        let url = try server.createDatabase()
        let folder = try TemporaryFolder("arun-pg")
        let processes = try (0..<10).map { _ in
            try ChildProcess.start(Executables.arun, ["work", "--run", "7", "--db", url], directory: folder.path)
        }
        for process in processes {
            let output = try process.wait(timeout: 300)
            #expect(output.status == 4, "\(output.stderr)")
            #expect(output.stderr.contains("no run 7"), "\(output.stderr)")
        }
        let files = try FileManager.default.contentsOfDirectory(
            atPath: Executables.packageRoot.appending(path: "migrations/postgres").path).filter { $0.hasSuffix(".sql") }
        #expect(try server.psql("SELECT count(*) FROM arun_schema_migrations", database: Self.database(of: url))
            == String(files.count))
    }

    /// The server restarts under two running `arun work` processes: they wait, reconnect
    /// and finish; every test is recorded exactly once, and passed.
    @Test func workersOutliveAServerRestart() throws {
        let server = try PostgresServer.shared()
        let url = try server.createDatabase()
        let database = Self.database(of: url)
        let folder = try Self.suite(files: 12, perFile: 25, sleep: 0.02)
        let enqueue = try Self.arun(["enqueue", "tests", "-n", "4", "--db", url], in: folder)
        #expect(enqueue.status == 0, "\(enqueue.stdout)\(enqueue.stderr)")
        let workers = try (0..<2).map { _ in
            try ChildProcess.start(Executables.arun, ["work", "--run", "1", "--lease", "10", "--db", url],
                                   directory: folder.path)
        }
        // Wait until results arrive, then take the server away for a few seconds.
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline, (Int(try server.psql("SELECT count(*) FROM results", database: database)) ?? 0) < 20 {
            usleep(100_000)
        }
        try server.stop()
        sleep(3)
        try server.start()
        for worker in workers {
            let output = try worker.wait(timeout: 600)
            #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        }
        let results = try Self.results(server, database: database)
        #expect(results.count == 300)
        #expect(Set(results.map { $0.split(separator: " ")[0] }).count == 300, "each test once")
        #expect(results.allSatisfy { $0.hasSuffix(" passed") })
        #expect(try server.psql("SELECT count(*) FROM jobs WHERE run_id = 1 AND state <> 'done'", database: database) == "0")
    }
}
