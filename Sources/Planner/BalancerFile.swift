import OrderedCollections

/// A test file with its tests in collection order and their estimated costs.
struct BalancerFile: Sendable {
    let path: String
    let tests: [CollectedTest]
    let costs: [Double]
    /// The file's estimated total, summed once: packing asks for it often.
    let seconds: Double

    init(path: String, tests: [CollectedTest], costs: [Double]) {
        self.path = path
        self.tests = tests
        self.costs = costs
        seconds = costs.reduce(0, +)
    }

    /// Files in order of first appearance; a file's tests keep collection order.
    static func files(of tests: [CollectedTest], costs: BalancerCostModel) -> [BalancerFile] {
        var byFile: OrderedDictionary<String, [CollectedTest]> = [:]
        for test in tests {
            byFile[test.file, default: []].append(test)
        }
        return byFile.map { path, tests in
            BalancerFile(path: path, tests: tests, costs: tests.map(costs.seconds(for:)))
        }
    }
}
