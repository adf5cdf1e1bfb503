import Foundation

/// A real PostgreSQL 15 server for the tests: initialised and started once per test
/// process on a free loopback port, as the `postgres` user (the server refuses root),
/// and stopped when the process exits. `.ci/run` installs the package; on a developer
/// machine without it the PostgreSQL tests skip with ``skipReason``.
public final class PostgresServer: @unchecked Sendable {  // mutable state under `lock`
    public static let binaries = "/usr/lib/postgresql/15/bin"
    /// A role that must give its password (every other role is trusted).
    public static let passwordUser = "arun_secret"
    public static let password = "s3cret-pa55"

    /// True when the tests should run: the binaries are here, or CI (`CI`, or
    /// `ARUN_REQUIRE_POSTGRES` from `.ci/run`) wants a failure instead of a skip.
    public static var enabled: Bool {
        let environment = ProcessInfo.processInfo.environment
        return FileManager.default.isExecutableFile(atPath: "\(binaries)/pg_ctl")
            || environment["CI"] != nil || environment["ARUN_REQUIRE_POSTGRES"] != nil
    }

    public static let skipReason = "PostgreSQL 15 is not installed: apt-get install -y postgresql"

    public let port: Int
    public let directory: String
    private let lock = NSLock()
    private var databases = 0

    private static let startLock = NSLock()
    nonisolated(unsafe) private static var started: PostgresServer?

    /// The process's server, started on first use.
    public static func shared() throws -> PostgresServer {
        startLock.lock()
        defer { startLock.unlock() }
        if let started { return started }
        let server = try PostgresServer()
        started = server
        return server
    }

    /// A server of its own (the multi-host test listens on addresses of its network
    /// namespaces' links, which must exist before it starts). Stopped at exit too.
    public static func dedicated(listen: [String], trust network: String) throws -> PostgresServer {
        try PostgresServer(listen: listen, trust: network)
    }

    private let listen: [String]

    private init(listen: [String] = ["127.0.0.1"], trust network: String? = nil) throws {
        self.listen = listen
        port = try Self.freePort()
        directory = FileManager.default.temporaryDirectory.appending(path: "arun-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.check(Self.spawn("/bin/chown", ["postgres:postgres", directory]), "chown")
        try Self.check(Self.asPostgres("\(Self.binaries)/initdb", ["-D", directory + "/data", "-U", "postgres",
                                                                    "--auth=trust", "--no-sync"]), "initdb")
        // First match wins: the password role must authenticate, everyone else is trusted.
        let hba = directory + "/data/pg_hba.conf"
        let existing = try String(contentsOfFile: hba, encoding: .utf8)
        let trusted = network.map { "host all all \($0) trust\n" } ?? ""
        try ("host all \(Self.passwordUser) 127.0.0.1/32 scram-sha-256\n" + trusted + existing)
            .write(toFile: hba, atomically: false, encoding: .utf8)
        try start()
        PostgresServer.stopAtExit(directory: directory)
        try psql("CREATE ROLE \(Self.passwordUser) LOGIN SUPERUSER PASSWORD '\(Self.password)'")
    }

    /// Starts (or restarts after ``stop()``) the server and waits until it accepts connections.
    public func start() throws {
        try Self.check(Self.asPostgres("\(Self.binaries)/pg_ctl", [
            "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "120",
            "-o", "-c listen_addresses=\(listen.joined(separator: ",")) -c port=\(port) -c unix_socket_directories=\(directory) "
                + "-c fsync=off -c max_connections=300",
            "start",
        ]), "pg_ctl start")
    }

    /// Stops the server (fast mode: sessions are cut, as in a crash from the clients' side).
    public func stop() throws {
        try Self.check(Self.asPostgres("\(Self.binaries)/pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "stop"]),
                       "pg_ctl stop")
    }

    /// A new empty database; its URL for `--db`.
    public func createDatabase() throws -> String {
        let name = lock.withLock { () -> String in
            databases += 1
            return "arun_\(getpid())_\(databases)"
        }
        try psql("CREATE DATABASE \(name)")
        return url(database: name)
    }

    public func url(database: String, user: String = "postgres", password: String? = nil,
                    host: String = "127.0.0.1") -> String {
        let credentials = password.map { "\(user):\($0)" } ?? user
        return "postgresql://\(credentials)@\(host):\(port)/\(database)?sslmode=disable"
    }

    /// Runs SQL as the superuser through `psql`; returns what it printed (unaligned, tuples only).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let output = try Self.spawn("\(Self.binaries)/psql", [
            "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database,
            "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
        try Self.check(output, "psql")
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func asPostgres(_ executable: String, _ arguments: [String]) throws -> ProcessOutput {
        // From /tmp: the postgres user may not enter the test's working directory.
        try spawn("/usr/sbin/runuser", ["-u", "postgres", "--", "/usr/bin/env", "-C", "/tmp", executable] + arguments)
    }

    /// posix_spawn and waitpid, output through a file. Foundation's Process left
    /// `runuser` unreaped here (pg_ctl's daemon outlives it), so the server's own
    /// commands do without it.
    public static func spawn(_ executable: String, _ arguments: [String]) throws -> ProcessOutput {
        let output = FileManager.default.temporaryDirectory.appending(path: "arun-pg-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard code == 0 else { throw PostgresServerError.failed(executable, String(cString: strerror(code))) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        return ProcessOutput(status: exited ? (status >> 8) & 0xff : status & 0x7f, stdout: text, stderr: "",
                             signaled: !exited)
    }

    static func check(_ output: ProcessOutput, _ what: String) throws {
        if output.status != 0 { throw PostgresServerError.failed(what, output.stdout + output.stderr) }
    }

    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw PostgresServerError.failed("bind", String(cString: strerror(errno))) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    nonisolated(unsafe) private static var directoriesToStop: [String] = []
    private static let exitLock = NSLock()

    private static func stopAtExit(directory: String) {
        exitLock.lock()
        defer { exitLock.unlock() }
        if directoriesToStop.isEmpty {
            atexit {
                for directory in PostgresServer.directoriesToStop {
                    _ = try? PostgresServer.asPostgres("\(PostgresServer.binaries)/pg_ctl",
                                                       ["-D", directory + "/data", "-m", "immediate", "-w", "stop"])
                    try? FileManager.default.removeItem(atPath: directory)
                }
            }
        }
        directoriesToStop.append(directory)
    }
}

public enum PostgresServerError: Error, CustomStringConvertible {
    case failed(String, String)

    public var description: String {
        switch self {
        case let .failed(what, output): "\(what) failed: \(output)"
        }
    }
}
