import Foundation
import Synchronization

/// The stderr of `--mp` worker processes, passed on to this process's stderr with
/// repeats folded: N children waiting for the same lock, or stopped by the same lock
/// timeout, say it once. A line is a repeat when it matches one passed on in the last
/// 15 s with its numbers (pids, seconds, times) ignored.
final class ChildNotices: Sendable {
    private struct State {
        var printed: [String: Date] = [:]
        var partial: [ObjectIdentifier: Data] = [:]
    }

    private let state = Mutex(State())

    /// Sends `process`'s stderr through this filter; call before `run()`.
    func attach(to process: Process) {
        let pipe = Pipe()
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            feed(data, from: ObjectIdentifier(handle), ended: data.isEmpty)
        }
    }

    private func feed(_ data: Data, from source: ObjectIdentifier, ended: Bool) {
        let lines: [String] = state.withLock { state in
            var buffer = state.partial[source, default: Data()] + data
            var lines: [String] = []
            while let newline = buffer.firstIndex(of: 0x0A) {
                lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                buffer = Data(buffer[(newline + 1)...])
            }
            if ended && !buffer.isEmpty {
                lines.append(String(decoding: buffer, as: UTF8.self))
                buffer = Data()
            }
            state.partial[source] = ended ? nil : buffer
            let now = Date()
            return lines.filter { line in
                let key = String(line.map { $0.isNumber ? "#" : $0 })
                if let last = state.printed[key], now.timeIntervalSince(last) < 15 { return false }
                state.printed[key] = now
                return true
            }
        }
        for line in lines { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }
}
