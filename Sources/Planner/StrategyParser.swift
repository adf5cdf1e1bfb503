import Foundation
import Yams

/// Walks a strategy file's YAML tree and resolves its targets.
///
/// Works on Yams' `Node` rather than decoded `Any` so that type mistakes
/// (`- 1`, `- yes`, a mapping where a list belongs) are reported as written,
/// and so that mappings keep file order, which decides group order.
struct StrategyParser {
    /// How to name the file in messages.
    let source: String

    /// What a category under `marks` holds.
    private enum Category {
        /// `hpc: [hpc_sw, hpc_fs]`
        case marks([String])
        /// `iaas: {smoke: [...], p2: [...]}`, in file order.
        case strategies([(name: String, marks: [String])])
    }

    private static let allowedKeys = ["target", "marks"]

    func parse(yaml: String) throws -> Strategy {
        if yaml.allSatisfy(\.isWhitespace) { throw PlanError.strategyEmpty(source: source) }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw PlanError.strategyEmpty(source: source)
            }
            root = node
        } catch let error as PlanError {
            throw error
        } catch {
            throw malformed(error)
        }
        if case .scalar = root, Self.tagName(root) == .null { throw PlanError.strategyEmpty(source: source) }
        guard let top = root.mapping else {
            throw PlanError.strategyNotMapping(source: source, found: Self.describe(root))
        }

        let unknown = Array(top.keys.map(Self.keyText).filter { !Self.allowedKeys.contains($0) })
        if !unknown.isEmpty { throw PlanError.strategyUnknownKeys(source: source, keys: unknown) }

        guard let targetNode = top["target"] else { throw PlanError.strategyMissingTarget(source: source) }
        let targets = try parseTargets(targetNode)
        guard let marksNode = top["marks"] else { throw PlanError.strategyMissingMarks(source: source) }
        let categories = try parseCategories(marksNode)

        var groups: [MarkGroup] = []
        for target in targets {
            for expression in try resolve(target, in: categories) {
                groups.append(MarkGroup(name: expression, expression: expression, target: target))
            }
        }
        return Strategy(targets: targets, groups: groups)
    }

    // MARK: Sections

    private func parseTargets(_ node: Node) throws -> [String] {
        let items: [Node]
        switch node {
        case .scalar where Self.tagName(node) == .null:
            throw PlanError.strategyEmptyTarget(source: source)
        case .scalar:
            items = [node]  // aomaker also accepts `target: hpc`
        case let .sequence(sequence):
            items = Array(sequence)
        default:
            throw PlanError.strategyTargetNotString(source: source, found: Self.describe(node))
        }
        if items.isEmpty { throw PlanError.strategyEmptyTarget(source: source) }
        return try items.map { item in
            guard let text = Self.string(item) else {
                throw PlanError.strategyTargetNotString(source: source, found: Self.describe(item))
            }
            return text
        }
    }

    /// Validates every category, targeted or not, so a typo anywhere in the
    /// file surfaces now rather than the day someone targets that category.
    private func parseCategories(_ node: Node) throws -> [(name: String, category: Category)] {
        guard let mapping = node.mapping else {
            throw PlanError.strategyMarksNotMapping(source: source, found: Self.describe(node))
        }
        return try mapping.map { key, value in
            let name = Self.keyText(key)
            let path = "marks.\(name)"
            switch value {
            case .sequence:
                return (name, .marks(try parseMarks(value, path: path)))
            case let .mapping(strategies):
                let parsed = try strategies.map { strategyKey, list in
                    let strategy = Self.keyText(strategyKey)
                    let strategyPath = "\(path).\(strategy)"
                    guard case .sequence = list else {
                        throw PlanError.strategyBadEntry(source: source, path: strategyPath, found: Self.describe(list))
                    }
                    return (name: strategy, marks: try parseMarks(list, path: strategyPath))
                }
                return (name, .strategies(parsed))
            default:
                throw PlanError.strategyBadEntry(source: source, path: path, found: Self.describe(value))
            }
        }
    }

    private func parseMarks(_ node: Node, path: String) throws -> [String] {
        try node.array().enumerated().map { offset, item in
            guard let text = Self.string(item) else {
                throw PlanError.strategyBadMark(source: source, path: path, position: offset + 1, found: Self.describe(item))
            }
            return text
        }
    }

    // MARK: Targets

    private func resolve(_ target: String, in categories: [(name: String, category: Category)]) throws -> [String] {
        // An exact category name wins, so a category whose name contains a dot still works.
        if let exact = categories.first(where: { $0.name == target }) {
            switch exact.category {
            case let .marks(marks):
                return try nonEmpty(marks, path: "marks.\(target)", target: target)
            case let .strategies(strategies):
                throw PlanError.strategyNestedTarget(
                    source: source, target: target, choices: strategies.map { "\(target).\($0.name)" })
            }
        }
        guard let dot = target.firstIndex(of: ".") else {
            throw PlanError.strategyUnknownCategory(source: source, target: target, known: categories.map(\.name))
        }
        let categoryName = String(target[..<dot])
        let strategyName = String(target[target.index(after: dot)...])
        guard let category = categories.first(where: { $0.name == categoryName }) else {
            throw PlanError.strategyUnknownCategory(source: source, target: target, known: categories.map(\.name))
        }
        switch category.category {
        case .marks:
            throw PlanError.strategyCategoryIsList(source: source, target: target, category: categoryName)
        case let .strategies(strategies):
            guard let strategy = strategies.first(where: { $0.name == strategyName }) else {
                throw PlanError.strategyUnknownStrategy(
                    source: source, target: target, choices: strategies.map { "\(categoryName).\($0.name)" })
            }
            return try nonEmpty(strategy.marks, path: "marks.\(target)", target: target)
        }
    }

    private func nonEmpty(_ marks: [String], path: String, target: String) throws -> [String] {
        if marks.isEmpty { throw PlanError.strategyEmptyMarks(source: source, path: path, target: target) }
        return marks
    }

    // MARK: Node helpers

    /// The text of a string scalar, trimmed; `nil` for anything else.
    ///
    /// Plain `1`, `yes` or `~` resolve to int/bool/null, which are never mark
    /// names, so they are rejected rather than silently stringified.
    private static func string(_ node: Node) -> String? {
        guard case let .scalar(scalar) = node, Self.tagName(node) == .str else { return nil }
        let text = scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// The resolved YAML tag (`str`, `int`, `null`...); Yams exposes it only as raw text.
    private static func tagName(_ node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    /// A mapping key as text; keys are names, so `2024:` is as good as `'2024':`.
    private static func keyText(_ node: Node) -> String {
        if case let .scalar(scalar) = node { return scalar.string }
        return describe(node)
    }

    /// How a node reads in a message: what the user wrote, not Yams' types.
    static func describe(_ node: Node) -> String {
        switch node {
        case let .scalar(scalar):
            switch Self.tagName(node) {
            case .null: return "empty"
            case .str: return scalar.string.allSatisfy(\.isWhitespace) ? "an empty string" : "the string '\(scalar.string)'"
            case .int, .float: return "the number \(scalar.string)"
            case .bool: return "the boolean \(scalar.string)"
            default: return "the value '\(scalar.string)'"
            }
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .alias: return "an alias"
        }
    }

    /// A Yams error as a one-line problem plus, when known, its line.
    private func malformed(_ error: any Error) -> PlanError {
        guard let yamlError = error as? YamlError else {
            return .strategyMalformed(source: source, line: nil, problem: singleLine(String(describing: error)))
        }
        switch yamlError {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let prefix = context.map { "\($0.text): " } ?? ""
            return .strategyMalformed(source: source, line: mark.line, problem: singleLine(prefix + problem))
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            return .strategyMalformed(source: source, line: context.mark.line, problem: "duplicate key(s) \(keys)")
        default:
            return .strategyMalformed(source: source, line: nil, problem: singleLine(yamlError.description))
        }
    }
}

/// Collapses runs of whitespace (including newlines) so a message stays on one line.
func singleLine(_ text: String) -> String {
    text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
}
