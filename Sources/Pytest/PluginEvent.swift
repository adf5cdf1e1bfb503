import Foundation

/// One JSON line the plugin writes (see `plugin/arun_plugin.py` for the protocol).
/// Fields a given event does not carry are nil.
public struct PluginEvent: Sendable, Decodable {
    public enum Kind: String, Sendable, Decodable {
        case item, file, collectError = "collect_error", badExpr = "bad_expr", done
        case ready, jobStart = "job_start", start, result, jobDone = "job_done", protocolError = "protocol_error"
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
    /// `job_start` of a files job: what its files held.
    public var items: [DescribedItem]?

    enum CodingKeys: String, CodingKey {
        case ev, nodeid, path, file, marks, matches, outcome, duration, message, details, stdout, stderr
        case teardownError = "teardown_error", callOutcome = "call_outcome", subtests
        case location, index, expr, count, rootdir, errors, pid, pytest, job, collected, missing, stopped, items
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

    private static let startPrefix = Array(#"{"ev":"start","nodeid":""#.utf8)
    private static let startSuffix = Array(#""}"#.utf8)

    /// Decodes one line; nil for a line that is not a protocol event.
    public static func decode(_ line: some Collection<UInt8>) -> PluginEvent? {
        // Half of all lines are `start` events; a node id without escapes needs no decoder.
        if line.starts(with: startPrefix), line.count > startPrefix.count + startSuffix.count,
           line.suffix(startSuffix.count).elementsEqual(startSuffix) {
            let body = line.dropFirst(startPrefix.count).dropLast(startSuffix.count)
            if !body.contains(0x5C) && !body.contains(0x22) {  // no backslash, no quote
                return PluginEvent(startOf: String(decoding: body, as: UTF8.self))
            }
        }
        return try? decoder.decode(PluginEvent.self, from: Data(line))
    }
}
