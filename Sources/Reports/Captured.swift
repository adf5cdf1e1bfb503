import Foundation
import Queue

/// What pytest shows with a test beyond its outcome and one-line message: the captured
/// sections printed under a failure ("Captured stdout call", "Captured log setup", …),
/// the failure headline, where a skip is reported, and which phases failed.
public struct Captured: Sendable, Equatable {
    /// One captured section, as pytest titles it.
    public struct Section: Sendable, Equatable {
        public var title: String
        public var text: String

        public init(title: String, text: String) {
            self.title = title
            self.text = text
        }
    }

    public var sections: [Section] = []
    /// pytest's headline for the test (`TestK.test_y[1]`), when the plugin recorded it.
    public var head: String?
    /// `tests/test_a.py:12` (or the file alone, for skip marks) for the short test summary.
    public var skipLocation: String?
    /// The whole crash message when it has several lines (`message` holds the first).
    public var crash: String?
    /// A teardown failed after the test failed, errored or was skipped (pytest: one more error).
    public var teardownError = false
    /// The call passed and the teardown failed: the test's `error` is a teardown error.
    public var callPassed = false

    public init() {}

    /// From the stored extras and the `sections` JSON array (either may be nil).
    init(extra: ResultExtra?, sections: String?) {
        if let sections {
            self.sections = SectionsParser.parse(sections) ?? Self.decode(sections)
        }
        guard let extra else { return }
        head = extra.head
        skipLocation = extra.skipLocation
        crash = extra.crash
        teardownError = extra.teardownError
        callPassed = extra.callOutcome == .passed
    }

    /// The general decoder, for text the fast parser does not take.
    private static func decode(_ json: String) -> [Section] {
        guard let data = json.data(using: .utf8),
              let pairs = try? JSONSerialization.jsonObject(with: data) as? [[String]] else { return [] }
        return pairs.compactMap { $0.count == 2 ? Section(title: $0[0], text: $0[1]) : nil }
    }
}

/// Reads the stored `[["title","text"], …]` byte by byte: a report of thousands of
/// failures parses megabytes of it, and the general JSON parser was a tenth of the time.
/// Nil for anything else (the caller then uses the general parser).
enum SectionsParser {
    static func parse(_ json: String) -> [Captured.Section]? {
        var json = json
        return json.withUTF8 { bytes -> [Captured.Section]? in
            var index = 0
            func skipSpace() { while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 } }
            func expect(_ byte: UInt8) -> Bool {
                skipSpace()
                guard index < bytes.count, bytes[index] == byte else { return false }
                index += 1
                return true
            }
            func string() -> String? {
                guard expect(0x22) else { return nil }
                var out: [UInt8] = []
                while index < bytes.count {
                    let byte = bytes[index]
                    index += 1
                    if byte == 0x22 { return String(decoding: out, as: UTF8.self) }
                    guard byte == 0x5C else { out.append(byte); continue }
                    guard index < bytes.count else { return nil }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case 0x6E: out.append(0x0A)
                    case 0x74: out.append(0x09)
                    case 0x72: out.append(0x0D)
                    case 0x22, 0x5C, 0x2F: out.append(escaped)
                    case 0x62: out.append(0x08)
                    case 0x66: out.append(0x0C)
                    case 0x75:
                        guard index + 4 <= bytes.count,
                              let value = UInt32(String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<index + 4]), as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(value) else { return nil }  // surrogate pairs: general parser
                        index += 4
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: return nil
                    }
                }
                return nil
            }
            var sections: [Captured.Section] = []
            guard expect(0x5B) else { return nil }
            skipSpace()
            if index < bytes.count, bytes[index] == 0x5D { return [] }
            repeat {
                guard expect(0x5B), let title = string(), expect(0x2C), let text = string(), expect(0x5D) else { return nil }
                sections.append(Captured.Section(title: title, text: text))
            } while expect(0x2C)
            return expect(0x5D) ? sections : nil
        }
    }
}
