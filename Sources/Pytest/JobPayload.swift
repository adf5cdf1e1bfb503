import Foundation

/// What a job's opaque queue payload means to arun: a job either lists its tests
/// (node ids, stored with the job) or names whole files whose tests the worker
/// learns as it collects them, so each file is collected once per run, by the
/// worker that runs it.
public struct JobPayload: Sendable, Codable, Equatable {
    /// Test files relative to pytest's rootdir; nil for a job of listed tests.
    public var files: [String]?

    public init(files: [String]? = nil) {
        self.files = files
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
