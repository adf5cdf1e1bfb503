import Foundation
import Testing
import Worker

/// Liveness of this host's workers from /proc: a live pid, a dead one, a reused one.
@Suite struct LocalProcessTests {
    @Test func tellsLiveDeadAndReusedPids() throws {
        let now = Date().timeIntervalSince1970
        #expect(LocalProcess.isAlive(pid: getpid(), registeredAt: now))
        // The same pid registered long before this process started was another process.
        #expect(!LocalProcess.isAlive(pid: getpid(), registeredAt: now - 10 * 365 * 86_400))
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        #expect(!LocalProcess.isAlive(pid: child.processIdentifier, registeredAt: now))
        #expect(!LocalProcess.isAlive(pid: 0, registeredAt: now))
    }
}
