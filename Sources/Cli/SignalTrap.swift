import Dispatch
import Foundation
import Worker

/// SIGINT/SIGTERM handling for commands that run workers: the first signal asks the
/// workers to stop gracefully (unfinished jobs go back to the queue); a second one
/// ends arun at once with exit code 2.
final class SignalTrap: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private var count = 0
    private let lock = NSLock()

    /// `quiet`: a supervised `arun work` leaves the words to its parent, so one Ctrl-C
    /// prints "stopping" once, not once per worker process.
    init(quiet: Bool = false, onStop: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let seen = self.lock.withLock {
                    self.count += 1
                    return self.count
                }
                if seen == 1 {
                    if !quiet { FileHandle.standardError.write(Data(
                        "\narun: stopping: unfinished jobs go back to the queue (again to quit at once)\n".utf8)) }
                    onStop()
                } else {
                    if !quiet { FileHandle.standardError.write(Data("arun: quitting now\n".utf8)) }
                    Foundation.exit(2)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    var interrupted: Bool { lock.withLock { count > 0 } }
}
