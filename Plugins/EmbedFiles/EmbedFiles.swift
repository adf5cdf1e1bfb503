import Foundation
import PackagePlugin

/// Embeds the package's non-Swift sources into the target that owns them:
/// `migrations/*.sql` into `Queue` and `plugin/*.py` into `Pytest`.
/// A copied `arun` binary therefore needs no files beside it.
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let (folder, suffix, symbol): (String, String, String)
        switch target.name {
        case "Queue": (folder, suffix, symbol) = ("migrations", ".sql", "EmbeddedMigrations")
        case "Pytest": (folder, suffix, symbol) = ("plugin", ".py", "EmbeddedPlugin")
        default: return []
        }
        let directory = context.package.directoryURL.appending(path: folder)
        let inputs = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(suffix) }
            .sorted()
            .map { directory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "\(symbol).swift")
        return [
            .buildCommand(
                displayName: "Embedding \(folder)/*\(suffix) into \(target.name)",
                executable: try context.tool(named: "Embedder").url,
                arguments: [symbol, output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
