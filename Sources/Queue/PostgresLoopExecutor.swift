import NIOCore

/// Runs a statement's task on its connection's event loop.
///
/// PostgresNIO completes every answer on the connection's event loop. A task waiting on
/// the global executor is woken on another thread for each step of a statement (the
/// answer, its rows, their end) and each of its requests wakes the loop in turn; with
/// the loop as the task's preferred executor a statement stays on one thread from the
/// request to the last row: one hop onto the loop and one back.
final class PostgresLoopExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // On the loop already (a continuation resumed by PostgresNIO): queued for this
        // same turn of the loop, no wake-up.
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
