import Foundation

/// One JSON line the plugin writes (see `plugin/arun_plugin.py` for the protocol).
/// Fields a given event does not carry are nil.
public struct PluginEvent: Sendable, Decodable {
    public enum Kind: String, Sendable, Decodable {
        case item, file, collectError = "collect_error", badExpr = "bad_expr", done
        case ready, jobStart = "job_start", start, result, jobDone = "job_done", protocolError = "protocol_error"
        case refused
        case unknown

        public init(from decoder: any Decoder) throws {
            self = Kind(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .unknown
        }
    }

    public var ev: Kind
    // item / start / result
    public var nodeid: String?
    public var path: String?
    public var file: String?
    public var marks: [String]?
    public var matches: [Int]?
    // result
    public var outcome: String?
    public var duration: Double?
    public var message: String?
    public var details: String?
    public var stdout: String?
    public var stderr: String?
    public var teardownError: Bool?
    public var callOutcome: String?
    public var subtests: Subtests?
    /// Captured sections pytest shows with the test: `[title, text]` pairs.
    public var sections: [[String]]?
    /// pytest's headline for the test (`TestK.test_y[1]`).
    public var head: String?
    /// Where the short test summary places a skip (`tests/test_a.py:12`).
    public var skipLocation: String?
    /// The whole crash message, when it has several lines.
    public var crash: String?
    // collect_error / bad_expr / protocol_error
    public var location: String?
    public var index: Int?
    public var expr: String?
    // done / ready / job_start / job_done
    public var count: Int?
    public var rootdir: String?
    public var errors: Errors?
    public var pid: Int?
    public var pytest: String?
    public var job: Int64?
    public var collected: Int?
    public var missing: [String]?
    public var stopped: String?
    /// `refused`: the exit code pytest ends with (3, INTERNALERROR).
    public var status: Int32?
    /// `job_start` of a files job: what its files held.
    public var items: [DescribedItem]?

    enum CodingKeys: String, CodingKey {
        case ev, nodeid, path, file, marks, matches, outcome, duration, message, details, stdout, stderr
        case teardownError = "teardown_error", callOutcome = "call_outcome", subtests
        case sections, head, skipLocation = "skip_location", crash
        case location, index, expr, count, rootdir, errors, pid, pytest, job, collected, missing, stopped, items, status
    }

    /// A test a files job collected: `[nodeid, file, [marks]]` on the wire.
    public struct DescribedItem: Sendable, Decodable, Equatable {
        public var nodeid: String
        public var file: String
        public var marks: [String]

        public init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            nodeid = try container.decode(String.self)
            file = try container.decode(String.self)
            marks = try container.decode([String].self)
        }
    }

    /// Subtest counts of one test (pytest 9's `subtests` fixture).
    public struct Subtests: Sendable, Codable, Equatable {
        public var passed: Int?
        public var failed: Int?
        public var skipped: Int?
        public var failures: [Failure]?

        public struct Failure: Sendable, Codable, Equatable {
            public var description: String?
            public var message: String?
        }
    }

    /// `errors` is a count in `done` and a list in `job_start`.
    public enum Errors: Sendable, Decodable {
        case count(Int)
        case list([CollectionError])

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let count = try? container.decode(Int.self) {
                self = .count(count)
            } else {
                self = .list(try container.decode([CollectionError].self))
            }
        }
    }

    /// A collector that failed.
    public struct CollectionError: Sendable, Codable, Equatable {
        public var location: String
        public var message: String

        public init(location: String, message: String) {
            self.location = location
            self.message = message
        }
    }

    private static let decoder = JSONDecoder()


    /// A `start` event, built without the JSON decoder.
    public init(startOf nodeid: String) {
        ev = .start
        self.nodeid = nodeid
    }

    /// A `result` event with nothing but the verdict, built without the JSON decoder.
    public init(resultOf nodeid: String, outcome: String, duration: Double) {
        ev = .result
        self.nodeid = nodeid
        self.outcome = outcome
        self.duration = duration
    }

    /// Decodes one line; nil for a line that is not a protocol event.
    ///
    /// Nearly every line is a `start` or a compact `result` (a test with nothing to add
    /// but its outcome); those are cut out of the bytes directly, as JSONDecoder costs
    /// more per line than everything else the parent does with a test. Anything
    /// unusual (escapes, more fields) goes to the decoder.
    public static func decode(_ line: some Collection<UInt8>) -> PluginEvent? {
        let fast = line.withContiguousStorageIfAvailable { bytes in
            let fastLine = FastLine(bytes)
            return fastLine.start() ?? fastLine.compactResult()
        } ?? nil
        if let fast { return fast }
        return try? decoder.decode(PluginEvent.self, from: Data(line))
    }
}

/// The two shapes of line the plugin writes per test, matched byte for byte.
private struct FastLine {
    let bytes: UnsafeBufferPointer<UInt8>

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private static let startPrefix = Array(#"{"ev":"start","nodeid":""#.utf8)
    private static let resultPrefix = Array(#"{"ev":"result","nodeid":""#.utf8)
    private static let outcomeKey = Array(#"","outcome":""#.utf8)
    private static let durationKey = Array(#"","duration":"#.utf8)
    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), closing = UInt8(ascii: "}")

    /// `{"ev":"start","nodeid":"…"}`
    func start() -> PluginEvent? {
        guard has(Self.startPrefix, at: 0), bytes.count >= Self.startPrefix.count + 2,
              bytes[bytes.count - 1] == Self.closing,
              let end = plainString(from: Self.startPrefix.count), end == bytes.count - 2
        else { return nil }
        return PluginEvent(startOf: text(Self.startPrefix.count..<end))
    }

    /// `{"ev":"result","nodeid":"…","outcome":"…","duration":…}`
    func compactResult() -> PluginEvent? {
        let nodeidStart = Self.resultPrefix.count
        guard has(Self.resultPrefix, at: 0), bytes.last == Self.closing,
              let nodeidEnd = plainString(from: nodeidStart), has(Self.outcomeKey, at: nodeidEnd)
        else { return nil }
        let outcomeStart = nodeidEnd + Self.outcomeKey.count
        guard let outcomeEnd = plainString(from: outcomeStart), has(Self.durationKey, at: outcomeEnd) else { return nil }
        let numberStart = outcomeEnd + Self.durationKey.count
        guard numberStart < bytes.count - 1,
              let duration = Double(text(numberStart..<(bytes.count - 1))) else { return nil }
        return PluginEvent(resultOf: text(nodeidStart..<nodeidEnd), outcome: text(outcomeStart..<outcomeEnd),
                           duration: duration)
    }

    private func has(_ literal: [UInt8], at offset: Int) -> Bool {
        guard offset + literal.count <= bytes.count else { return false }
        return literal.indices.allSatisfy { bytes[offset + $0] == literal[$0] }
    }

    /// Where the string starting at `offset` closes, when it holds no escape.
    private func plainString(from offset: Int) -> Int? {
        var index = offset
        while index < bytes.count {
            switch bytes[index] {
            case Self.quote: return index
            case Self.backslash: return nil
            default: index += 1
            }
        }
        return nil
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}
