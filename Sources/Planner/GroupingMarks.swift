extension Grouping {
    /// Turns mark arguments into expressions, splitting aomaker's single quoted
    /// `"m1 m2 m3"` into three groups.
    ///
    /// An argument is split only when it is a whitespace-separated list of plain
    /// mark names; anything with `and`/`or`/`not`, parentheses or other syntax is a
    /// real expression and stays whole (`"smoke and not slow"` is one group).
    /// Blank arguments are dropped.
    public static func splitMarkArguments(_ args: [String]) -> [String] {
        var expressions: [String] = []
        for argument in args {
            let words = argument.split(whereSeparator: \.isWhitespace).map(String.init)
            if words.isEmpty { continue }
            if words.count > 1, words.allSatisfy(isPlainMarkName) {
                expressions.append(contentsOf: words)
            } else {
                expressions.append(words.joined(separator: " "))
            }
        }
        return expressions
    }

    /// A Python identifier that is not one of `-m`'s operators.
    static func isPlainMarkName(_ word: String) -> Bool {
        guard let first = word.first, first.isLetter || first == "_" else { return false }
        guard !["and", "or", "not"].contains(word) else { return false }
        return word.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// One group per expression; a test goes to the first expression it matches.
    static func groupByMarks(_ tests: [CollectedTest], expressions: [String]) -> Grouping {
        var warnings: [String] = []

        // A repeated expression would be an always-empty group; fold it onto the first.
        var firstIndex: [String: Int] = [:]
        var canonical: [Int] = []
        for (index, expression) in expressions.enumerated() {
            if let earlier = firstIndex[expression] {
                canonical.append(earlier)
                warnings.append("mark expression '\(expression)' is given more than once; its tests run once, in the first")
            } else {
                firstIndex[expression] = index
                canonical.append(index)
            }
        }

        var members = Array(repeating: [CollectedTest](), count: expressions.count)
        var matchedAnywhere = Array(repeating: 0, count: expressions.count)
        var unmatched: [CollectedTest] = []
        var duplicates: [GroupingDuplicate] = []
        var outOfRange = 0

        for test in tests {
            var chosen: [Int] = []
            for index in test.matches {
                guard expressions.indices.contains(index) else {
                    outOfRange += 1
                    continue
                }
                chosen.append(canonical[index])
            }
            // Sorting makes "first" mean expression order, whatever order pytest reported.
            chosen = Array(Set(chosen)).sorted()
            guard let home = chosen.first else {
                unmatched.append(test)
                continue
            }
            members[home].append(test)
            for index in chosen {
                matchedAnywhere[index] += 1
            }
            for other in chosen.dropFirst() {
                duplicates.append(GroupingDuplicate(nodeid: test.nodeid, keptIn: expressions[home], alsoIn: expressions[other]))
            }
        }

        if outOfRange > 0 {
            warnings.append("\(outOfRange) match(es) point past the \(expressions.count) mark expression(s) given and were ignored; collect again with the same expressions")
        }

        var groups: [TestGroup] = []
        for index in expressions.indices where canonical[index] == index {
            let expression = expressions[index]
            if !members[index].isEmpty {
                groups.append(TestGroup(name: expression, tests: members[index]))
            } else if matchedAnywhere[index] > 0 {
                warnings.append("mark expression '\(expression)': all \(matchedAnywhere[index]) matching test(s) already run in earlier groups; no job for it")
            } else {
                warnings.append("mark expression '\(expression)' matches no collected test; no job for it")
            }
        }
        return Grouping(groups: groups, unmatched: unmatched, duplicates: duplicates, warnings: warnings)
    }
}
