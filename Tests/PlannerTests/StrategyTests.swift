import Foundation
import Testing
@testable import Planner

/// The manual's example, verbatim in structure.
let manualExample = """
target: ['iaas.p2','hpc']
marks:
  iaas:
    smoke:
      - iaas_image
      - iaas_volume
    p2:
      - iaas_image_p2
      - iaas_volume_p2
      - iaas_network_p2
  hpc:
    - hpc_sw
    - hpc_fs
"""

private let source = "conf/aomaker.yaml"

/// The manual's `marks:` section under a different `target:`.
private func withTarget(_ target: String) -> String {
    manualExample.replacingOccurrences(of: "target: ['iaas.p2','hpc']", with: target)
}

/// The error a strategy text produces, checked to be a one-line message.
private func strategyError(_ yaml: String) -> PlanError? {
    let error = plannerError { _ = try Strategy.parse(yaml: yaml, source: source) }
    if let error {
        #expect(!error.description.contains("\n"), "message must be one line: \(error.description)")
        #expect(error.description.hasPrefix("strategy file \(source): "))
    }
    return error
}

@Suite struct StrategyTests {
    @Test func manualExampleGivesFiveGroupsInOrder() throws {
        let strategy = try Strategy.parse(yaml: manualExample, source: source)
        #expect(strategy.groups.map(\.expression) == [
            "iaas_image_p2", "iaas_volume_p2", "iaas_network_p2", "hpc_sw", "hpc_fs",
        ])
        #expect(strategy.groups.map(\.name) == strategy.expressions)
        #expect(strategy.groups.map(\.target) == ["iaas.p2", "iaas.p2", "iaas.p2", "hpc", "hpc"])
        #expect(strategy.targets == ["iaas.p2", "hpc"])
    }

    @Test func singleStringTarget() throws {
        let strategy = try Strategy.parse(yaml: withTarget("target: iaas.smoke"), source: source)
        #expect(strategy.expressions == ["iaas_image", "iaas_volume"])
        let plain = try Strategy.parse(yaml: withTarget("target: hpc"), source: source)
        #expect(plain.expressions == ["hpc_sw", "hpc_fs"])
    }

    @Test func expressionEntriesStayWhole() throws {
        let yaml = """
        target: quick
        marks:
          quick: ["smoke and not slow", '(api or db) and not flaky']
        """
        let strategy = try Strategy.parse(yaml: yaml, source: source)
        #expect(strategy.expressions == ["smoke and not slow", "(api or db) and not flaky"])
    }

    @Test func emptyFile() {
        for text in ["", "   \n\n", "# just a comment\n", "~\n"] {
            let error = strategyError(text)
            #expect(error == .strategyEmpty(source: source), "for \(text.debugDescription)")
            #expect(error?.description.contains("is empty") == true)
        }
    }

    @Test func malformedYamlNamesTheLine() throws {
        let error = try #require(strategyError("target: ['a', 'b'\nmarks:\n  a: [x]\n"))
        guard case let .strategyMalformed(_, line, _) = error else {
            Issue.record("expected strategyMalformed, got \(error)")
            return
        }
        #expect(line != nil)
        #expect(error.description.contains("invalid YAML at line"))
    }

    @Test func duplicateKeysAreMalformed() throws {
        let error = try #require(strategyError("target: a\ntarget: b\nmarks:\n  a: [x]\n"))
        #expect(error.description.contains("duplicate"))
        #expect(error.description.contains("'target'"))
    }

    @Test func topLevelNotAMapping() {
        let error = strategyError("- iaas\n- hpc\n")
        #expect(error == .strategyNotMapping(source: source, found: "a list"))
        #expect(error?.description.contains("not a mapping") == true)
        #expect(strategyError("just words\n")?.description.contains("the string 'just words'") == true)
    }

    @Test func unknownTopLevelKeysAreNamed() {
        let error = strategyError(manualExample + "\nworkers: 4\ntargets: [x]\n")
        #expect(error == .strategyUnknownKeys(source: source, keys: ["workers", "targets"]))
        #expect(error?.description.contains("'workers', 'targets'") == true)
    }

    @Test func missingOrEmptyTarget() {
        let noTarget = strategyError("marks:\n  hpc: [hpc_sw]\n")
        #expect(noTarget == .strategyMissingTarget(source: source))
        #expect(noTarget?.description.contains("no 'target' key") == true)
        for target in ["target: []", "target:", "target: ''"] {
            let error = strategyError(withTarget(target))
            #expect(error?.description.contains("target") == true, "for \(target)")
            #expect(error == .strategyEmptyTarget(source: source)
                || error == .strategyTargetNotString(source: source, found: "an empty string"), "for \(target)")
        }
        #expect(strategyError(withTarget("target: [1]"))
            == .strategyTargetNotString(source: source, found: "the number 1"))
        #expect(strategyError(withTarget("target: {iaas: p2}"))?.description.contains("a mapping") == true)
    }

    @Test func missingOrBadMarks() {
        let missing = strategyError("target: hpc\n")
        #expect(missing == .strategyMissingMarks(source: source))
        #expect(missing?.description.contains("no 'marks' key") == true)
        let list = strategyError("target: hpc\nmarks: [hpc_sw]\n")
        #expect(list == .strategyMarksNotMapping(source: source, found: "a list"))
        #expect(list?.description.contains("'marks' is a list, not a mapping") == true)
        #expect(strategyError("target: hpc\nmarks:\n") == .strategyMarksNotMapping(source: source, found: "empty"))
    }

    @Test func targetNamingNoCategoryListsKnownOnes() {
        let error = strategyError(withTarget("target: [hpc, storage]"))
        #expect(error == .strategyUnknownCategory(source: source, target: "storage", known: ["iaas", "hpc"]))
        #expect(error?.description.contains("target 'storage' names no category") == true)
        #expect(error?.description.contains("known categories: iaas, hpc") == true)
        // A dotted target whose category does not exist is reported the same way.
        #expect(strategyError(withTarget("target: storage.p2"))?.description.contains("known categories: iaas, hpc") == true)
    }

    @Test func nestedTargetMustPickAStrategy() {
        let error = strategyError(withTarget("target: ['iaas']"))
        #expect(error?.description
            == "strategy file conf/aomaker.yaml: target 'iaas' names nested strategies; pick one of: iaas.smoke, iaas.p2")
    }

    @Test func unknownStrategyListsChoices() {
        let error = strategyError(withTarget("target: iaas.p3"))
        #expect(error == .strategyUnknownStrategy(source: source, target: "iaas.p3", choices: ["iaas.smoke", "iaas.p2"]))
        #expect(error?.description.contains("pick one of: iaas.smoke, iaas.p2") == true)
    }

    @Test func strategyOfAPlainList() {
        let error = strategyError(withTarget("target: hpc.sw"))
        #expect(error == .strategyCategoryIsList(source: source, target: "hpc.sw", category: "hpc"))
        #expect(error?.description.contains("plain list") == true)
        #expect(error?.description.contains("use target 'hpc'") == true)
    }

    @Test func entryNeitherListNorMapping() {
        let scalar = strategyError("target: hpc\nmarks:\n  hpc: hpc_sw\n")
        #expect(scalar == .strategyBadEntry(source: source, path: "marks.hpc", found: "the string 'hpc_sw'"))
        #expect(scalar?.description.contains("must be a list of marks") == true)
        // Even an untargeted category is checked, so typos surface early.
        let nested = strategyError("target: hpc\nmarks:\n  hpc: [a]\n  iaas:\n    smoke: iaas_image\n")
        #expect(nested == .strategyBadEntry(source: source, path: "marks.iaas.smoke", found: "the string 'iaas_image'"))
        #expect(strategyError("target: hpc\nmarks:\n  hpc:\n")
            == .strategyBadEntry(source: source, path: "marks.hpc", found: "empty"))
    }

    @Test func nonStringMarksAreRejected() {
        let cases: [(String, String)] = [
            ("[hpc_sw, 1]", "the number 1"),
            ("[hpc_sw, yes]", "the boolean yes"),
            ("[hpc_sw, {a: b}]", "a mapping"),
            ("[hpc_sw, [x]]", "a list"),
            ("[hpc_sw, ~]", "empty"),
            ("[hpc_sw, '  ']", "an empty string"),
        ]
        for (list, found) in cases {
            let error = strategyError("target: hpc\nmarks:\n  hpc: \(list)\n")
            #expect(error == .strategyBadMark(source: source, path: "marks.hpc", position: 2, found: found), "for \(list)")
            #expect(error?.description.contains("marks.hpc item 2 is \(found)") == true)
        }
        // Quoting makes it a string, as the message suggests.
        #expect(throws: Never.self) { try Strategy.parse(yaml: "target: hpc\nmarks:\n  hpc: [hpc_sw, 'yes']\n", source: source) }
    }

    @Test func targetedEmptyListIsAnError() {
        let error = strategyError("target: hpc\nmarks:\n  hpc: []\n")
        #expect(error == .strategyEmptyMarks(source: source, path: "marks.hpc", target: "hpc"))
        #expect(error?.description.contains("lists no marks") == true)
        // Untargeted and empty is harmless.
        #expect(throws: Never.self) { try Strategy.parse(yaml: "target: a\nmarks:\n  a: [x]\n  b: []\n", source: source) }
    }

    @Test func locatePrefersDistStrategy() throws {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("planner-strategy-\(UUID().uuidString)", isDirectory: true)
        let conf = root.appendingPathComponent("conf", isDirectory: true)
        try FileManager.default.createDirectory(at: conf, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }

        #expect(Strategy.locate(in: root) == nil)
        let aomaker = conf.appendingPathComponent("aomaker.yaml")
        try manualExample.write(to: aomaker, atomically: true, encoding: .utf8)
        #expect(Strategy.locate(in: root)?.lastPathComponent == "aomaker.yaml")
        let dist = conf.appendingPathComponent("dist_strategy.yaml")
        try withTarget("target: hpc").write(to: dist, atomically: true, encoding: .utf8)
        let found = try #require(Strategy.locate(in: root))
        #expect(found.lastPathComponent == "dist_strategy.yaml")
        #expect(try Strategy.load(contentsOf: found).expressions == ["hpc_sw", "hpc_fs"])
    }

    @Test func unreadableFile() {
        let missing = URL(fileURLWithPath: "/nonexistent/conf/aomaker.yaml")
        let error = plannerError { _ = try Strategy.load(contentsOf: missing, source: "conf/aomaker.yaml") }
        guard case .strategyUnreadable = error else {
            Issue.record("expected strategyUnreadable, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("cannot be read") == true)
    }
}
