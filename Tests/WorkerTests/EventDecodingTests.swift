import Foundation
import Pytest
import Testing

/// The plugin's per-test lines are cut out of the bytes without JSONDecoder; these
/// check that the shortcut and the decoder always agree, and that anything unusual
/// still reaches the decoder.
@Suite struct EventDecodingTests {
    static func decode(_ line: String) -> PluginEvent? { PluginEvent.decode(Array(line.utf8)) }

    @Test(arguments: [
        #"{"ev":"result","nodeid":"t.py::test_a[1-2]","outcome":"passed","duration":0.000123}"#,
        #"{"ev":"result","nodeid":"t.py::test_é","outcome":"skipped","duration":1.5e-05}"#,
        #"{"ev":"result","nodeid":"t.py::test_b","outcome":"failed","duration":2}"#,
    ])
    func compactResultsMatchTheDecoder(line: String) throws {
        let fast = try #require(Self.decode(line))
        let slow = try JSONDecoder().decode(PluginEvent.self, from: Data(line.utf8))
        #expect(fast.ev == .result && slow.ev == .result)
        #expect(fast.nodeid == slow.nodeid)
        #expect(fast.outcome == slow.outcome)
        #expect(fast.duration == slow.duration)
        #expect(fast.message == nil && fast.details == nil && fast.teardownError == nil)
    }

    @Test func escapesAndExtraFieldsGoThroughTheDecoder() throws {
        let escaped = try #require(Self.decode(#"{"ev":"result","nodeid":"t.py::test[a\"b]","outcome":"passed","duration":0.1}"#))
        #expect(escaped.nodeid == #"t.py::test[a"b]"#)
        let full = try #require(Self.decode(
            #"{"ev":"result","nodeid":"t.py::x","outcome":"failed","duration":0.5,"message":"boom","teardown_error":true}"#))
        #expect(full.message == "boom" && full.teardownError == true && full.duration == 0.5)
        let start = try #require(Self.decode(#"{"ev":"start","nodeid":"t.py::y\\z"}"#))
        #expect(start.ev == .start && start.nodeid == #"t.py::y\z"#)
    }

    @Test func startLinesAndNonEvents() throws {
        let start = try #require(Self.decode(#"{"ev":"start","nodeid":"d/t.py::C::test[x]"}"#))
        #expect(start.ev == .start && start.nodeid == "d/t.py::C::test[x]")
        #expect(Self.decode("not json") == nil)
        #expect(Self.decode(#"{"ev":"result","nodeid":"t.py::x","outcome":"passed","duration":}"#) == nil)
        #expect(Self.decode(#"{"ev":"result","nodeid":"t.py::x""#) == nil)
    }
}
