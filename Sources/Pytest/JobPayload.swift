import Foundation

/// What a job's opaque queue payload means to arun: a job either lists its tests
/// (node ids, stored with the job) or names whole files whose tests the worker
/// learns as it collects them, so each file is collected once per run, by the
/// worker that runs it.
public struct JobPayload: Sendable, Codable, Equatable {
    /// Test files relative to pytest's rootdir; nil for a job of listed tests.
    public var files: [String]?
    /// Beside `files`: how many tests each file had in earlier runs (nil: never run
    /// here). Live progress counts from it until a worker collects the file.
    public var known: [Int?]?

    public init(files: [String]? = nil, known: [Int?]? = nil) {
        self.files = files
        self.known = known
    }

    public var encoded: String {
        guard let data = try? JSONEncoder().encode(self) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func decode(_ text: String) -> JobPayload {
        guard !text.isEmpty, let payload = try? JSONDecoder().decode(JobPayload.self, from: Data(text.utf8)) else {
            return JobPayload()
        }
        return payload
    }
}
