import OrderedCollections

extension Grouping {
    /// One group per test file under `directory`.
    ///
    /// aomaker's `--dist-file` only looked at files directly in the directory;
    /// deeper files get a group each too, because silently not running them is
    /// worse than running them, and a warning says so.
    static func groupByFiles(_ tests: [CollectedTest], directory: String) -> Grouping {
        let place = DirectoryPlace(directory)
        var byFile: OrderedDictionary<String, [CollectedTest]> = [:]
        var deeperFiles: OrderedSet<String> = []
        var deeperTests = 0
        var unmatched: [CollectedTest] = []

        for test in tests {
            guard let relative = place.relativePath(of: test.file) else {
                unmatched.append(test)
                continue
            }
            if relative.contains("/") {
                deeperFiles.append(test.file)
                deeperTests += 1
            }
            byFile[test.file, default: []].append(test)
        }

        var warnings = place.warningsIfEmpty(inside: byFile.count, total: tests.count)
        if deeperTests > 0 {
            warnings.append("\(deeperTests) test(s) in \(deeperFiles.count) file(s) below subdirectories of '\(place.displayName)' got one group per file as well (aomaker's --dist-file ran only files directly in it)")
        }
        let groups = byFile.map { TestGroup(name: $0.key, tests: $0.value) }.sorted { $0.name < $1.name }
        return Grouping(groups: groups, unmatched: unmatched, warnings: warnings)
    }

    /// One group per immediate subdirectory of `directory`, holding every test below it.
    ///
    /// Test files lying directly in `directory` belong to no subdirectory;
    /// aomaker's `--dist-suite` never ran them. Here they form one extra group
    /// named after `directory`, with a warning.
    static func groupBySuites(_ tests: [CollectedTest], directory: String) -> Grouping {
        let place = DirectoryPlace(directory)
        var bySuite: OrderedDictionary<String, [CollectedTest]> = [:]
        var looseFiles: OrderedSet<String> = []
        var looseTests = 0
        var unmatched: [CollectedTest] = []

        for test in tests {
            guard let relative = place.relativePath(of: test.file) else {
                unmatched.append(test)
                continue
            }
            let suite: String
            if let slash = relative.firstIndex(of: "/") {
                suite = place.prefix + relative[..<slash]
            } else {
                suite = place.displayName
                looseFiles.append(test.file)
                looseTests += 1
            }
            bySuite[suite, default: []].append(test)
        }

        var warnings = place.warningsIfEmpty(inside: bySuite.count, total: tests.count)
        if looseTests > 0 {
            warnings.append("\(looseTests) test(s) in \(looseFiles.count) file(s) lie directly in '\(place.displayName)', not in a suite subdirectory; they run as one extra group '\(place.displayName)' (aomaker's --dist-suite skipped them)")
        }
        let groups = bySuite.map { TestGroup(name: $0.key, tests: $0.value) }.sorted { $0.name < $1.name }
        return Grouping(groups: groups, unmatched: unmatched, warnings: warnings)
    }
}

/// A rootdir-relative directory, normalised so `./tests/`, `tests` and `tests//` agree.
struct DirectoryPlace {
    /// `tests/api`, or `""` for the root.
    let path: String

    init(_ raw: String) {
        path = raw.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }

    /// `tests/api/`, or `""` for the root: what every file inside starts with.
    var prefix: String { path.isEmpty ? "" : path + "/" }

    /// How to show the directory to the user; the root reads as `.`.
    var displayName: String { path.isEmpty ? "." : path }

    /// The file's path below this directory, or `nil` if it lies elsewhere.
    func relativePath(of file: String) -> Substring? {
        let normalised = file.hasPrefix("./") ? file.dropFirst(2) : Substring(file)
        guard normalised.hasPrefix(prefix) else { return nil }
        let relative = normalised.dropFirst(prefix.count)
        return relative.isEmpty ? nil : relative
    }

    /// A warning when the directory holds none of the collected tests: likely a typo.
    func warningsIfEmpty(inside groupCount: Int, total: Int) -> [String] {
        guard groupCount == 0, total > 0 else { return [] }
        return ["no collected test lies under '\(displayName)'; all \(total) test(s) are unmatched, check the directory (it is relative to the pytest rootdir)"]
    }
}
