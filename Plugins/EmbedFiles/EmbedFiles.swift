import Foundation
import PackagePlugin

/// Embeds the package's non-Swift sources into the target that owns them:
/// `migrations/<backend>/*.sql` into `Queue` and `plugin/*.py` into `Pytest`.
/// A copied `arun` binary therefore needs no files beside it.
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let (folder, suffix, symbol, nested): (String, String, String, Bool)
        switch target.name {
        case "Queue": (folder, suffix, symbol, nested) = ("migrations", ".sql", "EmbeddedMigrations", true)
        case "Pytest": (folder, suffix, symbol, nested) = ("plugin", ".py", "EmbeddedPlugin", false)
        default: return []
        }
        let directory = context.package.directoryURL.appending(path: folder)
        // Migrations keep one folder per database backend; keys are paths relative
        // to `folder`, such as `sqlite/0001_init.sql`.
        var relative: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            var isDirectory: ObjCBool = false
            let path = directory.appending(path: name).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                guard nested else { continue }
                relative += try FileManager.default.contentsOfDirectory(atPath: path)
                    .filter { $0.hasSuffix(suffix) }
                    .map { "\(name)/\($0)" }
            } else if name.hasSuffix(suffix) {
                relative.append(name)
            }
        }
        let inputs = relative.sorted().map { directory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "\(symbol).swift")
        return [
            .buildCommand(
                displayName: "Embedding \(folder)/*\(suffix) into \(target.name)",
                executable: try context.tool(named: "Embedder").url,
                arguments: [symbol, output.path, directory.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
