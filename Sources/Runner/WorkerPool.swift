import Foundation
import Queue
import Worker

/// N workers as tasks of this process (`--mt`, and `arun work -n N`).
public enum WorkerPool {
    public static func run(count: Int, queue: any JobQueue, run: Run, configuration: WorkerConfiguration,
                           control: WorkerControl, firstIndex: Int = 0) async throws {
        let prefix = "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in firstIndex..<(firstIndex + count) {
                let worker = Worker(id: "\(prefix)-\(index)", queue: queue, run: run, configuration: configuration,
                                    control: control)
                group.addTask { try await worker.work() }
            }
            do {
                try await group.waitForAll()
            } catch {
                // One worker cannot go on (pytest will not start): stop the others too.
                control.stop(.interrupted)
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
