import Foundation
import Queue
import Worker

/// N workers as tasks of this process (`--mt`, and `arun work -n N`), supervised: a
/// worker task that dies of an error another try may cure is replaced at once (its job
/// already went back to the queue), up to `maxRestarts` replacements; past that, or on a
/// fault no new worker can cure (pytest will not start, the database is locked, full or
/// damaged), every worker stops and the error is thrown.
public enum WorkerPool {
    public static func run(count: Int, queue: any JobQueue, run: Run, configuration: WorkerConfiguration,
                           control: WorkerControl, firstIndex: Int = 0, maxRestarts: Int? = nil) async throws {
        let prefix = "\(LocalProcess.hostName)-\(getpid())"
        let limit = maxRestarts ?? 4 * count
        let failure: (any Error)? = await withTaskGroup(of: (String, (any Error)?).self) { group in
            var started = firstIndex
            func add() {
                let worker = Worker(id: "\(prefix)-\(started)", queue: queue, run: run, configuration: configuration,
                                    control: control)
                started += 1
                group.addTask {
                    do {
                        try await worker.work()
                        return (worker.id, nil)
                    } catch {
                        return (worker.id, error)
                    }
                }
            }
            for _ in 0..<count { add() }
            var deaths = 0
            var failure: (any Error)?
            while let (id, error) = await group.next() {
                guard let error else { continue }
                if failure != nil || control.isStopping {
                    // The first error is the one told (a pytest stopped by our own stop throws none).
                    if failure == nil, !(error is CancellationError) { failure = error }
                    continue
                }
                if !isCurable(error) {
                    failure = error
                    control.stop(.interrupted)
                    continue
                }
                deaths += 1
                let what = "worker \(id) died (\(error))"
                if deaths > limit {
                    failure = WorkerError.restartLimit(deaths: deaths, limit: limit, last: what)
                    control.stop(.interrupted)
                    continue
                }
                FileHandle.standardError.write(Data(
                    "arun: \(what): its job went back to the queue; a new worker replaces it (restart \(deaths) of \(limit), --max-worker-restart)\n".utf8))
                add()
            }
            return failure
        }
        if let failure { throw failure }
    }

    /// A new worker would meet the same wall: a pytest that will not start, or a database
    /// that is locked, full, read-only or damaged.
    static func isCurable(_ error: any Error) -> Bool {
        switch error {
        case is WorkerError, is CancellationError: false
        case let error as QueueError: !error.isStorageFault
        default: true
        }
    }
}
