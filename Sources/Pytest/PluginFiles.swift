import Foundation

/// The pytest plugin arun ships (`plugin/arun_plugin.py`), embedded in the binary
/// and written out on demand so pytest can import it with `-p arun_plugin`.
public enum PluginFiles {
    /// Module name passed to `pytest -p`.
    public static let moduleName = "arun_plugin"

    /// The plugin's source.
    public static var source: String { EmbeddedPlugin.files["\(moduleName).py"] ?? "" }

    /// Writes the plugin into a folder named after its content hash (so several
    /// arun versions and concurrent workers never overwrite each other's copy)
    /// and returns that folder, for PYTHONPATH.
    public static func install(under base: URL = FileManager.default.temporaryDirectory) throws -> URL {
        let source = self.source
        let folder = base.appending(path: "arun-plugin-\(fnv1a(source))")
        let file = folder.appending(path: "\(moduleName).py")
        if (try? String(contentsOf: file, encoding: .utf8)) == source { return folder }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Write beside, then rename: a concurrent reader sees the old file or the new, never
        // half. The name is unique: one arun starts several pytest processes at once.
        let temporary = folder.appending(path: ".\(moduleName).\(UUID().uuidString).tmp")
        try source.write(to: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary.path, file.path) == 0
                || (try? String(contentsOf: file, encoding: .utf8)) == source else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
        return folder
    }

    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
