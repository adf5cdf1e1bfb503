import Foundation
import Queue

/// The JSON the HTML report's script renders its test table from, compact enough for
/// 200,000 tests: names are stored once (files, workers, outcomes) and referred to by
/// index; the long texts (failure text, captured sections, earlier attempts) sit apart
/// in `details`, read only when a row is opened or searched.
///
/// `tests[i]` is `[file index, node id after the file, outcome index, seconds, worker
/// index or -1, attempts, flaky 0/1, message or null, details index or -1]`;
/// `details[k]` is `{"t": failure text, "s": [[title, text]], "l": skip location,
/// "e": [[attempt, outcome, seconds, worker, message, failure text, [[title, text]]]]}`.
extension RunReport {
    static let htmlOutcomeNames = Outcome.allCases.map(\.rawValue) + ["pending"]

    func htmlTestData() -> String {
        let j = Escape.jsonInScript
        let n = Escape.jsonNumber
        let outcomeIndex = Dictionary(uniqueKeysWithValues: Self.htmlOutcomeNames.enumerated().map { ($1, $0) })
        var files = NameTable()
        var workers = NameTable()
        var rows = ""
        rows.reserveCapacity(tests.count * 80)
        var details = ""
        var detailCount = 0
        // By index, reading fields in place: copying each record costs retains and releases.
        for position in tests.indices {
            var file = -1
            var rest = tests[position].nodeid
            let testFile = tests[position].file
            if !testFile.isEmpty, rest.utf8.starts(with: testFile.utf8) {
                file = files.index(of: testFile)
                rest = String(Substring(rest.utf8.dropFirst(testFile.utf8.count)))
            }
            var worker = -1
            if let name = tests[position].worker { worker = workers.index(of: name) }
            var detail = -1
            let text = tests[position].failing ? tests[position].details : nil
            if text != nil || !tests[position].captured.sections.isEmpty || !tests[position].earlierFailures.isEmpty
                || tests[position].captured.skipLocation != nil {
                detail = detailCount
                details += detailCount == 0 ? "\n" : ",\n"
                details += htmlDetail(tests[position], text: text)
                detailCount += 1
            }
            rows += position == 0 ? "\n[" : ",\n["
            rows += String(file)
            rows += ","
            rows += j(rest)
            rows += ","
            rows += String(outcomeIndex[tests[position].status] ?? 0)
            rows += ","
            rows += n(tests[position].duration)
            rows += ","
            rows += String(worker)
            rows += ","
            rows += String(tests[position].attempts)
            rows += tests[position].flaky ? ",1," : ",0,"
            rows += tests[position].message.map(j) ?? "null"
            rows += ","
            rows += String(detail)
            rows += "]"
        }
        var out = "{\"outcomes\":[" + Self.htmlOutcomeNames.map(j).joined(separator: ",") + "],\n"
        out += "\"files\":[" + files.names.map(j).joined(separator: ",") + "],\n"
        out += "\"workers\":[" + workers.names.map(j).joined(separator: ",") + "],\n"
        out += "\"tests\":[" + rows + "],\n"
        out += "\"details\":[" + details + "]}"
        return out
    }

    private func htmlDetail(_ test: TestRecord, text: String?) -> String {
        let j = Escape.jsonInScript
        let n = Escape.jsonNumber
        func sections(_ list: [Captured.Section]) -> String {
            "[" + list.map { "[" + j($0.title) + "," + j($0.text) + "]" }.joined(separator: ",") + "]"
        }
        var fields: [String] = []
        if let text { fields.append("\"t\":" + j(Format.failureText(text))) }
        if !test.captured.sections.isEmpty { fields.append("\"s\":" + sections(test.captured.sections)) }
        if let location = test.captured.skipLocation { fields.append("\"l\":" + j(location)) }
        if !test.earlierFailures.isEmpty {
            fields.append("\"e\":[" + test.earlierFailures.map { attempt in
                "[\(attempt.attempt),\(j(attempt.outcome.rawValue)),\(n(attempt.duration)),"
                    + "\(attempt.worker.map(j) ?? "null"),\(attempt.message.map(j) ?? "null"),"
                    + "\(attempt.details.map { j(Format.failureText($0)) } ?? "null"),\(sections(attempt.captured.sections))]"
            }.joined(separator: ",") + "]")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// Names stored once and referred to by their position (files and workers in the HTML data).
private struct NameTable {
    private(set) var names: [String] = []
    private var positions: [String: Int] = [:]

    /// The name's position, adding it at the end when it is new.
    mutating func index(of name: String) -> Int {
        if let known = positions[name] { return known }
        positions[name] = names.count
        names.append(name)
        return names.count - 1
    }
}
