import Foundation

extension Strategy {
    /// The strategy file names looked for under `conf/`, most specific first.
    ///
    /// `dist_strategy.yaml` wins over `aomaker.yaml` because it exists only to
    /// hold a strategy, whereas `aomaker.yaml` may be a general config the
    /// project keeps for other reasons.
    public static let fileNames = ["dist_strategy.yaml", "aomaker.yaml"]

    /// The strategy file of the project at `directory`: `conf/dist_strategy.yaml`
    /// if present, else `conf/aomaker.yaml`, else `nil`.
    public static func locate(in directory: URL) -> URL? {
        let conf = directory.appendingPathComponent("conf", isDirectory: true)
        for name in fileNames {
            let candidate = conf.appendingPathComponent(name, isDirectory: false)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory),
               !isDirectory.boolValue {
                return candidate
            }
        }
        return nil
    }

    /// Reads and parses the strategy file at `url`.
    /// - Parameter source: how to name the file in messages; defaults to its path.
    public static func load(contentsOf url: URL, source: String? = nil) throws -> Strategy {
        let name = source ?? url.path
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw PlanError.strategyUnreadable(source: name, reason: singleLine(error.localizedDescription))
        }
        return try parse(yaml: text, source: name)
    }
}
