import Foundation

/// Standard output without buffering: progress and summaries must reach a CI log or
/// a pipe as they happen, and must not be lost when arun exits with a code.
enum Console {
    static func print(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }
}
