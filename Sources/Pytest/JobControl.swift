import Foundation

/// The line arun writes to a serving pytest to start a job: its id and either the files
/// to collect and run, or a file listing the node ids to run.
public struct JobControl: Sendable, Encodable, Equatable {
    public var job: Int64
    /// Files to collect (a job of whole files that no worker has collected yet).
    public var files: [String]?
    /// A JSON file of node ids (the job's remaining tests).
    public var testsFile: String?
    /// Failures this job may still take before the plugin stops it (`-x`/`--maxfail`).
    public var maxfail: Int?

    public init(job: Int64, files: [String]? = nil, testsFile: String? = nil) {
        self.job = job
        self.files = files
        self.testsFile = testsFile
    }

    enum CodingKeys: String, CodingKey {
        case job, files, maxfail
        case testsFile = "tests_file"
    }

    /// One JSON line, newline included.
    public var line: [UInt8] {
        Array((try? JSONEncoder().encode(self)) ?? Data()) + [0x0A]
    }
}
