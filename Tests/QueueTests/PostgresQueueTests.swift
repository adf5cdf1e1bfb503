import Foundation
@testable import Queue
import QueueConformance
import TestSupport
import Testing

/// The PostgreSQL backend against the shared conformance checks and its own guarantees,
/// on a real server (``PostgresServer``), each test on a fresh database.
@Suite(.enabled(if: PostgresServer.enabled, Comment(rawValue: PostgresServer.skipReason)))
struct PostgresQueueTests {
    static func freshAddress() throws -> PostgresAddress {
        try PostgresAddress(url: try PostgresServer.shared().createDatabase())
    }

    @Test(arguments: QueueConformance.all.map(\.0))
    func conformance(_ name: String) async throws {
        let address = try Self.freshAddress()
        let check = try #require(QueueConformance.all.first { $0.0 == name }?.1)
        try await check { clock in
            var configuration = PostgresQueueConfiguration()
            configuration.clock = { clock.now }
            return try await PostgresQueue(address: address, configuration: configuration)
        }
    }

    /// Ten queues opening one fresh database at once: one migrates under the advisory
    /// lock, the others wait and find the schema in place; none fails.
    @Test func concurrentOpeningMigratesOnce() async throws {
        let address = try Self.freshAddress()
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 {
                group.addTask { try await PostgresQueue(address: address).schemaVersion() }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(versions == Array(repeating: PostgresMigrations.all.count, count: 10))
        let server = try PostgresServer.shared()
        #expect(try server.psql("SELECT count(*) FROM arun_schema_migrations", database: address.database)
            == String(PostgresMigrations.all.count))
    }

    /// A database migrated by a newer arun is refused with one line naming the fix.
    @Test func newerSchemaIsRefused() async throws {
        let address = try Self.freshAddress()
        _ = try await PostgresQueue(address: address)
        try PostgresServer.shared().psql(
            "INSERT INTO arun_schema_migrations VALUES ('9999_future', 0)", database: address.database)
        do {
            _ = try await PostgresQueue(address: address)
            Issue.record("a newer schema was accepted")
        } catch let error as QueueError {
            guard case .newerSchema = error else { Issue.record("wrong error: \(error)"); return }
            #expect(error.description.contains("newer arun"))
            #expect(!error.description.contains("\n"))
            #expect(error.exitCode == 4)
        }
    }

    /// The claim reads `jobs_claimable` in order: an index scan with no sort, under a
    /// LockRows node, in a materialized CTE. Checked on the statement workers prepare, in
    /// both plans PostgreSQL may pick for it: one for a call's values (custom) and one for
    /// any values (generic, which it may switch to after five calls).
    @Test func claimPlanUsesThePartialIndex() async throws {
        let address = try Self.freshAddress()
        let queue = try await PostgresQueue(address: address)
        for _ in 0..<3 {
            let run = try await queue.createRun(NewRun())
            try await queue.enqueue((0..<3_000).map { NewJob(name: "j\($0)", estimatedSeconds: Double($0 % 50)) },
                                    into: run.id)
        }
        let server = try PostgresServer.shared()
        try server.psql("ANALYZE", database: address.database)
        // $1 run, $2 clock, $3 worker, $4 clock, $5 lease, $6 clock, $7 token.
        #expect(ClaimStatement(run: 2, worker: "w", lease: 60, token: 1, clock: nil).makeBindings().count == 7)
        for mode in ["force_custom_plan", "force_generic_plan"] {
            let plan = try server.psql("""
                SET plan_cache_mode = \(mode); PREPARE claim AS \(ClaimStatement.sql);
                EXPLAIN EXECUTE claim(2, NULL, 'w', NULL, 60, NULL, 1)
                """, database: address.database)
            #expect(plan.contains("CTE next"), "\(mode): \(plan)")
            #expect(plan.contains("LockRows"), "\(mode): \(plan)")
            #expect(plan.contains("Index Scan using jobs_claimable on jobs"), "\(mode): \(plan)")
            #expect(!plan.contains("Sort"), "\(mode): \(plan)")
            #expect(!plan.contains("Seq Scan on jobs"), "\(mode): \(plan)")
        }
    }

    /// Leases run on the server's clock: the stored expiry is the server's now() + lease,
    /// whatever this host's clock says.
    @Test func leasesUseTheServerClock() async throws {
        let address = try Self.freshAddress()
        let queue = try await PostgresQueue(address: address)
        let run = try await queue.createRun(NewRun())
        try await queue.enqueue([NewJob(name: "j")], into: run.id)
        let claim = try #require(try await queue.claim(run: run.id, worker: "w", lease: 100))
        let server = try PostgresServer.shared()
        let serverNow = try #require(Double(try server.psql("SELECT EXTRACT(epoch FROM now())", database: address.database)))
        #expect(abs(claim.leaseExpiresAt - (serverNow + 100)) < 30)
        let stored = try server.psql("SELECT lease_expires_at - started_at FROM jobs WHERE id = \(claim.jobID)",
                                     database: address.database)
        #expect(Double(stored) == 100)
    }

    /// Results arrive in batches under the claim; many at once are one statement each 2,000.
    @Test func resultsAreWrittenInBatches() async throws {
        let address = try Self.freshAddress()
        let queue = try await PostgresQueue(address: address)
        let run = try await queue.createRun(NewRun())
        let tests = (0..<4_500).map { NewTest(nodeid: "t.py::t\($0)", file: "t.py") }
        try await queue.enqueue([NewJob(name: "all", tests: tests)], into: run.id)
        let claim = try #require(try await queue.claim(run: run.id, worker: "w", lease: 60))
        let pending = try await queue.pendingTests(of: claim)
        #expect(pending.count == 4_500)
        let results = pending.map {
            TestResult(testID: $0.testID, attempt: 1, outcome: .passed, duration: 0.01, message: "it's \"quoted\"; -- fine")
        }
        #expect(try await queue.record(results, for: claim, worker: "w"))
        #expect(try await queue.record(results, for: claim, worker: "w"), "a repeat writes the same rows")
        #expect(try await queue.pendingTests(of: claim).isEmpty)
        let server = try PostgresServer.shared()
        #expect(try server.psql("SELECT count(*) FROM results", database: address.database) == "4500")
        #expect(try server.psql("SELECT DISTINCT message FROM results", database: address.database)
            == "it's \"quoted\"; -- fine")
    }

    /// An idle worker's wait ends as soon as jobs are enqueued (NOTIFY), long before its timeout.
    @Test func enqueueWakesWaitingWorkers() async throws {
        let address = try Self.freshAddress()
        let queue = try await PostgresQueue(address: address)
        let producer = try await PostgresQueue(address: address)
        let run = try await queue.createRun(NewRun())
        await queue.listener.wait(run: run.id, upTo: 0.5)  // the listener is up
        let started = Date()
        async let waited: Void = queue.listener.wait(run: run.id, upTo: 60)
        try await Task.sleep(nanoseconds: 300_000_000)
        try await producer.enqueue([NewJob(name: "j")], into: run.id)
        await waited
        #expect(Date().timeIntervalSince(started) < 30, "woken by NOTIFY, not by the 60 s timeout")
        #expect(try await queue.claim(run: run.id, worker: "w", lease: 60) != nil)
    }

    /// Bad addresses and servers: one line each, naming the fix, never the password.
    @Test func connectionProblemsAreOneLine() async throws {
        let server = try PostgresServer.shared()
        _ = try server.createDatabase()
        let cases: [(String, (QueueError) -> Bool)] = [
            (server.url(database: "postgres", user: PostgresServer.passwordUser, password: "wrong-pw-xyz"),
             { if case .authenticationFailed = $0 { true } else { false } }),
            (server.url(database: "no_such_db"), { if case .missingPostgresDatabase = $0 { true } else { false } }),
            ("postgresql://postgres:wrong-pw-xyz@127.0.0.1:1/x?sslmode=disable",
             { if case .serverUnreachable = $0 { true } else { false } }),
        ]
        for (url, expected) in cases {
            do {
                _ = try await PostgresQueue(address: try PostgresAddress(url: url))
                Issue.record("\(url) opened")
            } catch let error as QueueError {
                #expect(expected(error), "\(error)")
                #expect(!error.description.contains("wrong-pw-xyz"))
                #expect(!error.description.contains("\n"))
                #expect(error.exitCode == 4)
            }
        }
        // The right password works.
        let good = try PostgresAddress(url: server.url(database: "postgres", user: PostgresServer.passwordUser,
                                                        password: PostgresServer.password))
        #expect(try await PostgresQueue(address: good).schemaVersion() == PostgresMigrations.all.count)
    }
}

/// URL parsing needs no server.
@Suite struct PostgresAddressTests {
    @Test func parsesAndRedacts() throws {
        let address = try PostgresAddress(url: "postgresql://ci:p%40ss@db.example:6543/suite")
        #expect(address.user == "ci")
        #expect(address.password == "p@ss")
        #expect(address.host == "db.example")
        #expect(address.port == 6543)
        #expect(address.database == "suite")
        #expect(address.description == "postgresql://ci@db.example:6543/suite")
        #expect(try PostgresAddress(url: "postgres://u@h/d").port == 5432)
        #expect(try PostgresAddress(url: address.url) == address)
    }

    @Test func badURLsAreOneLineWithoutPassword() {
        for url in ["postgresql://u:topsecret@h", "postgresql://:topsecret@h/d", "postgresql://u:topsecret@h/d?x=1",
                    "postgresql://u:topsecret@h/d?sslmode=maybe"] {
            #expect {
                try PostgresAddress(url: url)
            } throws: { error in
                let text = "\(error)"
                return text.contains("postgresql://") && !text.contains("topsecret") && (error as? QueueError)?.exitCode == 4
            }
        }
    }

    @Test func environmentAndFlagChooseTheBackend() throws {
        let url = "postgresql://u:pw@h:5/d"
        #expect(try DatabaseAddress.resolve(explicit: url, environment: [:]) == .postgres(try PostgresAddress(url: url)))
        #expect(try DatabaseAddress.resolve(explicit: nil, environment: ["ARUN_DB": url]).description == "postgresql://u@h:5/d")
        #expect(try DatabaseAddress.resolve(explicit: "x.db", environment: ["ARUN_DB": url], currentDirectory: "/w")
            == .sqlite(path: "/w/x.db"))
    }

    @Test func migrationFilesSplitIntoStatements() {
        let statements = PostgresMigrations.statements(in: """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'a;b');
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM 1; RETURN NULL; END $$;
            SELECT 1
            """)
        #expect(statements.count == 3)
        #expect(statements[1].hasSuffix("END $$"))
        #expect(PostgresMigrations.statements(in: PostgresMigrations.all[0].sql).count > 20)
    }
}
