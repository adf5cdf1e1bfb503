import Foundation
import Queue

/// `--format junit`: one merged JUnit XML file, `testsuites` → one `testsuite` per test
/// file → `testcase` (classname, name, time), as Jenkins, GitLab and GitHub read it.
///
/// Retries are written as Maven Surefire writes its reruns: a test that passed after
/// failing keeps its failed attempts as `flakyFailure`/`flakyError` children; a test
/// still failing has `failure`/`error` plus `rerunFailure`/`rerunError` for the
/// attempts before the last. Everything from tests is escaped; characters XML 1.0
/// forbids are replaced by visible `\xNN` text.
extension RunReport {
    func junitReport(now: Date) -> String {
        let a = Escape.xmlAttribute
        // Test files in order of first appearance; tests by index (no record copies).
        var files: [String] = []
        var byFile: [String: [Int]] = [:]
        for index in tests.indices {
            let test = tests[index]
            let file = test.file.isEmpty ? JUnitName.split(test.nodeid).file : test.file
            if byFile[file] == nil { files.append(file) }
            byFile[file, default: []].append(index)
        }
        let runStart = sources.compactMap(\.run.startedAt).min() ?? run.createdAt
        var suites = ""
        suites.reserveCapacity(tests.count * 120)
        var total = JUnitCounts()
        var modules = JUnitName.Modules()
        var body = ""
        for (index, file) in files.enumerated() {
            let cases = byFile[file] ?? []
            var counts = JUnitCounts()
            body.removeAll(keepingCapacity: true)
            var started = Double.infinity
            for position in cases {
                testcase(tests[position], counts: &counts, modules: &modules, into: &body)
                if let time = tests[position].startedAt { started = min(started, time) }
            }
            total.add(counts)
            suites += "  <testsuite name=\"\(a(file))\" tests=\"\(counts.tests)\" failures=\"\(counts.failures)\" "
            suites += "errors=\"\(counts.errors)\" skipped=\"\(counts.skipped)\" time=\"\(JUnitName.time(counts.time))\" "
            suites += "timestamp=\"\(Format.isoTimestamp(started.isFinite ? started : runStart))\" id=\"\(index)\">\n"
            suites += body
            suites += "  </testsuite>\n"
        }
        let name = sources.count > 1 ? "arun merged runs \(sources.map { String($0.run.id) }.joined(separator: ","))"
            : "arun run \(run.id)"
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"\(a(name))\" tests=\"\(total.tests)\" failures=\"\(total.failures)\" "
        // No `skipped` or `timestamp` here: the Jenkins xUnit plugin's junit-10.xsd refuses
        // them on `testsuites` (and skips the whole file); each `testsuite` carries both.
        out += "errors=\"\(total.errors)\" time=\"\(JUnitName.time(wallSeconds))\">\n"
        out += suites
        out += "</testsuites>\n"
        return out
    }

    private func testcase(_ test: TestRecord, counts: inout JUnitCounts, modules: inout JUnitName.Modules,
                          into out: inout String) {
        let a = Escape.xmlAttribute
        let x = Escape.xml
        let (classname, name) = JUnitName.classAndName(test.nodeid, modules: &modules)
        counts.tests += 1
        counts.time += test.duration
        var children = ""
        let message = test.message.flatMap(Format.firstLine) ?? ""
        let text = test.details.map(Format.failureText) ?? test.message ?? ""
        switch test.outcome {
        case .failed?, .crashed?, .timeout?:
            counts.failures += 1
            children += "      <failure message=\"\(a(message))\" type=\"\(test.status)\">\(x(text))</failure>\n"
            children += reruns(test, kind: "rerun", errorKind: false)
            children += reruns(test, kind: "rerun", errorKind: true)
        case .error?:
            counts.errors += 1
            children += reruns(test, kind: "rerun", errorKind: false)
            children += "      <error message=\"\(a(message))\" type=\"error\">\(x(text))</error>\n"
            children += reruns(test, kind: "rerun", errorKind: true)
        case .skipped?:
            counts.skipped += 1
            children += "      <skipped message=\"\(a(message))\" type=\"pytest.skip\">\(x(message))</skipped>\n"
        case .xfailed?:
            counts.skipped += 1
            let reason = "xfail" + (message.isEmpty ? "" : ": \(message)")
            children += "      <skipped message=\"\(a(reason))\" type=\"pytest.xfail\">\(x(reason))</skipped>\n"
        case .notRun?:
            counts.skipped += 1
            let reason = message.isEmpty ? "not run: the run was stopped before this test" : message
            children += "      <skipped message=\"\(a(reason))\" type=\"not_run\">\(x(reason))</skipped>\n"
        case nil:
            counts.skipped += 1
            let reason = "pending: the run has no result for this test yet"
            children += "      <skipped message=\"\(a(reason))\" type=\"pending\">\(x(reason))</skipped>\n"
        case .passed?, .xpassed?:
            if test.outcome == .passed {
                children += reruns(test, kind: "flaky", errorKind: false)
                children += reruns(test, kind: "flaky", errorKind: true)
            } else {
                children += reruns(test, kind: "rerun", errorKind: false)
                children += reruns(test, kind: "rerun", errorKind: true)
            }
        }
        if let stdout = test.stdout, !stdout.isEmpty { children += "      <system-out>\(x(stdout))</system-out>\n" }
        if let stderr = test.stderr, !stderr.isEmpty { children += "      <system-err>\(x(stderr))</system-err>\n" }
        out += "    <testcase classname=\""
        out += a(classname)
        out += "\" name=\""
        out += a(name)
        out += "\" time=\""
        out += JUnitName.time(test.duration)
        if children.isEmpty {
            out += "\"/>\n"
        } else {
            out += "\">\n"
            out += children
            out += "    </testcase>\n"
        }
    }

    /// `rerunFailure`/`flakyFailure` (or `…Error`) for the earlier failing attempts whose
    /// kind matches: `error` attempts become `…Error`, the others `…Failure`.
    private func reruns(_ test: TestRecord, kind: String, errorKind: Bool) -> String {
        let a = Escape.xmlAttribute
        let x = Escape.xml
        var out = ""
        for attempt in test.earlierFailures where (attempt.outcome == .error) == errorKind {
            let element = kind + (errorKind ? "Error" : "Failure")
            let message = "attempt \(attempt.attempt): " + (Format.firstLine(attempt.message) ?? attempt.outcome.rawValue)
            out += "      <\(element) message=\"\(a(message))\" type=\"\(attempt.outcome.rawValue)\">"
            out += "<stackTrace>\(x(attempt.details.map(Format.failureText) ?? attempt.message ?? ""))</stackTrace>"
            if let stdout = attempt.stdout, !stdout.isEmpty { out += "<system-out>\(x(stdout))</system-out>" }
            if let stderr = attempt.stderr, !stderr.isEmpty { out += "<system-err>\(x(stderr))</system-err>" }
            out += "</\(element)>\n"
        }
        return out
    }
}

struct JUnitCounts {
    var tests = 0, failures = 0, errors = 0, skipped = 0
    var time = 0.0

    mutating func add(_ other: JUnitCounts) {
        tests += other.tests
        failures += other.failures
        errors += other.errors
        skipped += other.skipped
        time += other.time
    }
}

/// How pytest's `--junitxml` names a node: `tests/a/test_x.py::TestK::test_y[1]` is
/// classname `tests.a.test_x.TestK`, name `test_y[1]`.
enum JUnitName {
    /// The node id split at `::` (only before its first `[`: parameters may hold `::`).
    static func split(_ nodeid: String) -> (file: String, rest: [String]) {
        var parts: [String] = []
        let bytes = Array(nodeid.utf8)
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "[") { break }
            if byte == UInt8(ascii: ":"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ":") {
                parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
                index += 2
                start = index
                continue
            }
            index += 1
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        let file = parts.removeFirst()
        return (file, parts)
    }

    /// Dotted module and class names of test files and classes, computed once each.
    struct Modules {
        var cache: [Substring: String] = [:]

        mutating func module(_ file: Substring) -> String {
            if let known = cache[file] { return known }
            let stem = file.hasSuffix(".py") ? file.dropLast(3) : file
            let module = String(decoding: stem.utf8.map { $0 == UInt8(ascii: "/") ? UInt8(ascii: ".") : $0 }, as: UTF8.self)
            cache[file] = module
            return module
        }
    }

    static func classAndName(_ nodeid: String) -> (classname: String, name: String) {
        var modules = Modules()
        return classAndName(nodeid, modules: &modules)
    }

    static func classAndName(_ nodeid: String, modules: inout Modules) -> (classname: String, name: String) {
        // The `::` separators before the first `[` (parameters may hold `::`).
        let utf8 = nodeid.utf8
        var separators: [String.Index] = []
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "[") { break }
            let next = utf8.index(after: index)
            if byte == UInt8(ascii: ":"), next != utf8.endIndex, utf8[next] == UInt8(ascii: ":") {
                separators.append(index)
                index = utf8.index(after: next)
                continue
            }
            index = next
        }
        guard let first = separators.first, let last = separators.last else {
            return (modules.module(nodeid[...]), nodeid)
        }
        let name = String(nodeid[utf8.index(last, offsetBy: 2)...])
        // Everything before the last `::` names the class: `tests/a.py::K::L` → `tests.a.K.L`.
        let owner = nodeid[..<last]
        if let known = modules.cache[owner] { return (known, name) }
        var classname = modules.module(nodeid[..<first])
        for (start, end) in zip(separators, separators.dropFirst()) {
            classname += "."
            classname += nodeid[utf8.index(start, offsetBy: 2)..<end]
        }
        modules.cache[owner] = classname
        return (classname, name)
    }

    /// Seconds with three decimals, without `String(format:)` (slow on Linux).
    static func time(_ seconds: Double) -> String {
        let milliseconds = Int64((seconds.isFinite ? max(0, seconds) : 0) * 1000 + 0.5)
        let fraction = milliseconds % 1000
        return "\(milliseconds / 1000)." + (fraction < 10 ? "00" : fraction < 100 ? "0" : "") + String(fraction)
    }
}
