import Foundation

/// How a run was started: everything a later command (`arun work`, `run --resume`,
/// `rerun --failed`, `report --merge`) needs to continue it as it began. Stored with
/// the run as a versioned JSON object; a field is nil when it was never set.
public struct RunSettings: Sendable, Equatable, Codable {
    /// The version this arun writes. Version 0 is the untyped object of earlier
    /// versions (`"workers": "4"`, `"shard": "0/3"`), still read.
    public static let currentVersion = 1

    /// One slice of a suite split across machines, 0-based.
    public struct Shard: Sendable, Equatable, Codable {
        public var index: Int
        public var count: Int

        public init(index: Int, count: Int) {
            self.index = index
            self.count = count
        }
    }

    public var version: Int
    /// The split mode's label (`auto`, `dist-mark`, `dist-file`, `dist-suite`, `strategy`).
    public var mode: String?
    /// `files` when jobs name whole files (workers collect them), `tests` when they name node ids.
    public var planning: String?
    /// Workers the run was planned and started with.
    public var workers: Int?
    public var shard: Shard?
    /// Workers as `arun work` processes (`--mp`) rather than tasks (`--mt`).
    public var workerProcesses: Bool?
    /// Seconds a job's lease lasts without a heartbeat.
    public var lease: Double?
    /// Seconds a test may run before it is killed.
    public var testTimeout: Double?
    /// Failures that stop the run (`-x` is 1).
    public var maxFail: Int?
    /// Rounds of automatic retries of failing tests.
    public var retries: Int?
    public var failOnFlaky: Bool?

    public init(mode: String? = nil, planning: String? = nil, workers: Int? = nil, shard: Shard? = nil,
                workerProcesses: Bool? = nil, lease: Double? = nil, testTimeout: Double? = nil, maxFail: Int? = nil,
                retries: Int? = nil, failOnFlaky: Bool? = nil) {
        version = Self.currentVersion
        self.mode = mode
        self.planning = planning
        self.workers = workers
        self.shard = shard
        self.workerProcesses = workerProcesses
        self.lease = lease
        self.testTimeout = testTimeout
        self.maxFail = maxFail
        self.retries = retries
        self.failOnFlaky = failOnFlaky
    }

    /// These settings with every field `given` sets replacing this one's: an option
    /// given again to `run --resume` or `rerun` wins over the stored one.
    public func overridden(by given: RunSettings) -> RunSettings {
        var merged = self
        merged.mode = given.mode ?? mode
        merged.planning = given.planning ?? planning
        merged.workers = given.workers ?? workers
        merged.shard = given.shard ?? shard
        merged.workerProcesses = given.workerProcesses ?? workerProcesses
        merged.lease = given.lease ?? lease
        merged.testTimeout = given.testTimeout ?? testTimeout
        merged.maxFail = given.maxFail ?? maxFail
        merged.retries = given.retries ?? retries
        merged.failOnFlaky = given.failOnFlaky ?? failOnFlaky
        return merged
    }

    /// The stored JSON text (sorted keys, nil fields left out).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// Reads stored JSON text; what cannot be read is left nil.
    public init(json: String) {
        self = (try? JSONDecoder().decode(RunSettings.self, from: Data(json.utf8))) ?? RunSettings()
    }

    enum CodingKeys: String, CodingKey {
        case version, mode, planning, workers, shard, lease, retries
        case workerProcesses = "worker_processes", testTimeout = "test_timeout", maxFail = "max_fail"
        case failOnFlaky = "fail_on_flaky"
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        version = (try? values.decodeIfPresent(Int.self, forKey: .version)) ?? 0
        mode = try? values.decodeIfPresent(String.self, forKey: .mode)
        planning = try? values.decodeIfPresent(String.self, forKey: .planning)
        // Version 0 wrote numbers as strings and the shard as "index/count".
        workers = (try? values.decodeIfPresent(Int.self, forKey: .workers))
            ?? (try? values.decodeIfPresent(String.self, forKey: .workers)).flatMap { $0.flatMap { Int($0) } }
        if let shard = try? values.decodeIfPresent(Shard.self, forKey: .shard) {
            self.shard = shard
        } else if let text = try? values.decodeIfPresent(String.self, forKey: .shard) {
            let parts = text.split(separator: "/").compactMap { Int($0) }
            shard = parts.count == 2 ? Shard(index: parts[0], count: parts[1]) : nil
        }
        workerProcesses = try? values.decodeIfPresent(Bool.self, forKey: .workerProcesses)
        lease = try? values.decodeIfPresent(Double.self, forKey: .lease)
        testTimeout = try? values.decodeIfPresent(Double.self, forKey: .testTimeout)
        maxFail = try? values.decodeIfPresent(Int.self, forKey: .maxFail)
        retries = try? values.decodeIfPresent(Int.self, forKey: .retries)
        failOnFlaky = try? values.decodeIfPresent(Bool.self, forKey: .failOnFlaky)
    }
}
