import Foundation
import Pytest
import Subprocess

/// Splits the plugin's event stream into lines and decodes each.
struct EventReader {
    private var iterator: SubprocessOutputSequence.AsyncIterator
    private var pending: [UInt8] = []
    /// Start of the first unread line in `pending`.
    private var start = 0
    /// Where the search for the next newline resumes.
    private var scanned = 0
    private var ended = false

    init(_ sequence: SubprocessOutputSequence) {
        iterator = sequence.makeAsyncIterator()
    }

    /// The next event, or nil at end of stream (the process closed stdout, usually by dying).
    mutating func next() async -> PluginEvent? {
        while true {
            if let newline = pending[scanned...].firstIndex(of: 0x0A) {
                let event = PluginEvent.decode(pending[start..<newline])
                start = newline + 1
                scanned = start
                if let event { return event }
                continue
            }
            // Drop consumed bytes only now and then, not per line.
            if start == pending.count {
                pending.removeAll(keepingCapacity: true)
                start = 0
            } else if start > 1 << 16 {
                pending.removeFirst(start)
                start = 0
            }
            scanned = pending.count
            if ended { return nil }
            do {
                guard let buffer = try await iterator.next() else {
                    ended = true
                    continue
                }
                buffer.withUnsafeBytes { pending.append(contentsOf: $0) }
            } catch {
                ended = true
            }
        }
    }
}
