import Foundation

/// pytest arguments that must act once per run, not once per worker process.
public enum SharedArguments {
    /// allure-pytest's `--clean-alluredir` empties the results folder at every pytest
    /// start: with several workers, each would delete the others' results. arun empties
    /// the folder once, before the run, and passes the rest on unchanged.
    public static func prepare(_ arguments: [String], in directory: String) throws -> [String] {
        guard arguments.contains("--clean-alluredir") else { return arguments }
        var folder: String?
        for (index, argument) in arguments.enumerated() {
            if argument == "--alluredir", index + 1 < arguments.count { folder = arguments[index + 1] }
            if argument.hasPrefix("--alluredir=") { folder = String(argument.dropFirst("--alluredir=".count)) }
        }
        if let folder {
            let url = folder.hasPrefix("/") ? URL(fileURLWithPath: folder)
                : URL(fileURLWithPath: directory).appending(path: folder)
            let manager = FileManager.default
            for entry in (try? manager.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)) ?? [] {
                try manager.removeItem(at: entry)
            }
        }
        return arguments.filter { $0 != "--clean-alluredir" }
    }
}
