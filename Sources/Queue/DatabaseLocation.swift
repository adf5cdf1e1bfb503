import Foundation

/// Where the database lives: `--db PATH`, else `ARUN_DB`, else `.arun/arun.db`
/// under the current directory.
public enum DatabaseLocation {
    public static let defaultRelativePath = ".arun/arun.db"

    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               currentDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        let chosen = explicit.flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["ARUN_DB"].flatMap { $0.isEmpty ? nil : $0 }
            ?? defaultRelativePath
        if chosen.hasPrefix("/") { return chosen }
        return URL(fileURLWithPath: currentDirectory).appending(path: chosen).standardizedFileURL.path
    }
}
