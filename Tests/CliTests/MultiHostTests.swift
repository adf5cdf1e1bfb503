import Foundation
import TestSupport
import Testing

/// Several hosts share one run through PostgreSQL. Each host is a network namespace
/// with its own veth link to the server and its own host name (where this machine lets
/// the test make them; else a separate process tree on loopback), running
/// `arun work --run 1 --db postgresql://…`. One host's whole process tree is killed
/// with SIGKILL mid-run; the others take its jobs over after its lease.
@Suite(.enabled(if: PostgresServer.enabled, Comment(rawValue: PostgresServer.skipReason)), .serialized)
struct MultiHostTests {
    struct Host {
        var name: String
        var namespace: String?
        var serverAddress: String
    }

    /// Makes `count` namespaces with a veth pair each (10.77.N.1 on this side, .2 inside);
    /// nil when namespaces cannot be made here.
    static func makeNamespaces(_ count: Int, tag: String) -> [Host]? {
        var hosts: [Host] = []
        for index in 1...count {
            let namespace = "arun\(tag)h\(index)"
            let outside = "va\(tag)h\(index)"
            let inside = "vb\(tag)h\(index)"
            let steps: [[String]] = [
                ["netns", "add", namespace],
                ["link", "add", outside, "type", "veth", "peer", "name", inside],
                ["link", "set", inside, "netns", namespace],
                ["addr", "add", "10.77.\(index).1/24", "dev", outside],
                ["link", "set", outside, "up"],
                ["-n", namespace, "addr", "add", "10.77.\(index).2/24", "dev", inside],
                ["-n", namespace, "link", "set", inside, "up"],
                ["-n", namespace, "link", "set", "lo", "up"],
            ]
            for step in steps {
                guard let output = try? PostgresServer.spawn("/usr/sbin/ip", step), output.status == 0 else {
                    removeNamespaces(hosts + [Host(name: "", namespace: namespace, serverAddress: "")])
                    return nil
                }
            }
            hosts.append(Host(name: "host\(index)", namespace: namespace, serverAddress: "10.77.\(index).1"))
        }
        return hosts
    }

    /// Deleting a namespace deletes its end of the veth pair, and so the pair.
    static func removeNamespaces(_ hosts: [Host]) {
        for namespace in hosts.compactMap(\.namespace) {
            _ = try? PostgresServer.spawn("/usr/sbin/ip", ["netns", "del", namespace])
        }
    }

    /// `arun work` as `host`: inside its namespace, under its own host name.
    static func startWorker(on host: Host, arguments: [String], directory: String) throws -> RunningProcess {
        let hostname = "hostname \(host.name) 2>/dev/null || true; exec \"$0\" \"$@\""
        var command = ["/usr/bin/unshare", "--uts", "/bin/sh", "-c", hostname, Executables.arun] + arguments
        if let namespace = host.namespace { command = ["/usr/sbin/ip", "netns", "exec", namespace] + command }
        return try ChildProcess.start(command[0], Array(command.dropFirst()), directory: directory)
    }

    /// Every process below `root`, found through /proc, and `root` itself.
    static func processTree(_ root: Int32) -> [Int32] {
        var parents: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[parent, default: []].append(pid) }
        }
        var tree = [root]
        var index = 0
        while index < tree.count {
            tree += parents[tree[index]] ?? []
            index += 1
        }
        return tree
    }

    @Test func threeHostsShareOneRunAndSurviveAKilledHost() throws {
        let tag = String(getpid() % 1000)
        let namespaced = Self.makeNamespaces(3, tag: tag)
        defer { Self.removeNamespaces(namespaced ?? []) }
        let hosts = namespaced ?? (1...3).map { Host(name: "host\($0)", namespace: nil, serverAddress: "127.0.0.1") }
        print("multi-host test: \(namespaced == nil ? "separate process trees on loopback" : "3 network namespaces with veth links")")
        let server = try PostgresServer.dedicated(listen: ["127.0.0.1"] + (namespaced?.map(\.serverAddress) ?? []),
                                                  trust: "10.77.0.0/16")
        defer { try? server.stop() }
        let url = try server.createDatabase()
        let database = String(url.split(separator: "/").last!.split(separator: "?").first!)

        let folder = try PostgresCliTests.suite(files: 40, perFile: 55, sleep: 0.005)
        let enqueue = try ChildProcess.run(Executables.arun, ["enqueue", "tests", "-n", "6", "--db", url],
                                           directory: folder.path, timeout: 600)
        #expect(enqueue.status == 0, "\(enqueue.stdout)\(enqueue.stderr)")

        let workers = try hosts.map { host in
            let hostURL = server.url(database: database, host: host.serverAddress)
            return try Self.startWorker(on: host, arguments: ["work", "--run", "1", "--lease", "8", "-n", "2",
                                                              "--db", hostURL], directory: folder.path)
        }
        // Mid-run: some results are in, most are not.
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, (Int(try server.psql("SELECT count(*) FROM results", database: database)) ?? 0) < 300 {
            usleep(50_000)
        }
        let victim = Self.processTree(workers[1].pid)
        for pid in victim { kill(pid, SIGKILL) }
        let killed = try workers[1].wait(timeout: 60)
        #expect(killed.signaled)

        for (index, worker) in workers.enumerated() where index != 1 {
            let output = try worker.wait(timeout: 900)
            #expect(output.status == 0, "\(hosts[index].name): \(output.stdout)\(output.stderr)")
        }
        let results = try PostgresCliTests.results(server, database: database)
        #expect(results.count == 2_200, "every test exactly once")
        #expect(Set(results.map { $0.split(separator: " ")[0] }).count == 2_200)
        #expect(results.allSatisfy { $0.hasSuffix(" passed") })
        #expect(try server.psql("SELECT count(*) FROM jobs WHERE state <> 'done'", database: database) == "0")
        let hostNames = try server.psql("SELECT DISTINCT host FROM workers ORDER BY host", database: database)
            .split(separator: "\n").map(String.init)
        #expect(hostNames == ["host1", "host2", "host3"], "\(hostNames)")
        #expect(try server.psql("SELECT count(DISTINCT worker) FROM results", database: database) != "0")
        // The report, read from PostgreSQL, names the workers of every host.
        let report = try ChildProcess.run(Executables.arun, ["report", "--db", url], directory: folder.path)
        #expect(report.status == 0, "\(report.stdout)\(report.stderr)")
        for host in hosts { #expect(report.stdout.contains(host.name + "-"), "\(host.name): \(report.stdout)") }
        let runs = try ChildProcess.run(Executables.arun, ["runs", "--db", url], directory: folder.path)
        #expect(runs.status == 0 && runs.stdout.contains("2200"), "\(runs.stdout)\(runs.stderr)")
    }
}
