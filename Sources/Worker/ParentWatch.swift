import Foundation

/// Ends a supervised worker when its parent dies, whatever killed it: `arun run --mp`
/// starts `arun work --supervisor PID`, and a `kill -9` of the parent must not leave
/// orphans working on. A thread polls the parent pid (PR_SET_PDEATHSIG follows the
/// parent *thread* that forked us, which a thread pool may retire at any time).
public enum ParentWatch {
    /// Calls `onDeath` once when the parent is no longer `parent` (it was reparented),
    /// then, if the process is still alive `grace` seconds later, exits with code 2.
    public static func start(parent: Int32, grace: Double = 10, onDeath: @escaping @Sendable () -> Void) {
        Thread.detachNewThread {
            while getppid() == parent { Thread.sleep(forTimeInterval: 0.2) }
            onDeath()
            Thread.sleep(forTimeInterval: grace)
            exit(2)
        }
    }
}
