import Foundation
import Queue
import Reports
import TestSupport
import Testing

/// The HTML report opened in headless Chromium (Debian's `chromium`): what the rendered
/// page shows is compared with the JSON report of the same run.
@Suite struct HTMLBrowserTests {
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The DOM after the page's script ran, for each address fragment (one browser each, in parallel).
    static func render(_ file: String, fragments: [String], in folder: TemporaryFolder, extra: [String] = []) throws
        -> [String] {
        let browser = try #require(chromium, "chromium is missing: apt-get install chromium")
        let running = try fragments.enumerated().map { index, fragment in
            try ChildProcess.start(browser, [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=\(folder.file("profile-\(index)"))", "--window-size=1200,900",
                "--virtual-time-budget=5000", "--dump-dom"] + extra + [
                URL(fileURLWithPath: file).absoluteString + (fragment.isEmpty ? "" : "#" + fragment),
            ])
        }
        return try running.map { process in
            let output = try process.wait(timeout: 300)
            #expect(output.status == 0, "chromium: \(output.stderr.suffix(2_000))")
            return output.stdout
        }
    }

    /// Text as the DOM serialiser escapes it, back to plain.
    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&nbsp;", with: "\u{a0}").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func matches(_ pattern: String, in text: String) -> [[String]] {
        let regex = try! NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            (1..<match.numberOfRanges).map { Range(match.range(at: $0), in: text).map { String(text[$0]) } ?? "" }
        }
    }

    /// (node id, outcome) of the rendered rows, in order.
    static func rows(_ dom: String) -> [(nodeid: String, outcome: String)] {
        matches(#"<tr class="t ([a-z_]+)[^"]*" data-i="\d+">.*?<code class="id">(.*?)</code>"#, in: dom)
            .map { (unescape($0[1]), $0[0]) }
    }

    @Test func renderedPageShowsWhatTheJSONReportHolds() async throws {
        let folder = try TemporaryFolder("arun-html-browser")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder, pending: true)
        let report = try await RunReport.load(run: writer.run.id, from: queue, output: true)
        let html = try folder.write("report.html", report.render(.html))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.render(.json).utf8)) as? [String: Any])
        let tests = try #require(json["tests"] as? [[String: Any]])
        let totals = try #require(json["totals"] as? [String: Int])
        let expected = tests.map { ($0["nodeid"] as? String ?? "", $0["outcome"] as? String ?? "") }

        let fail = "tests/test_a.py::test_fail"
        let doms = try Self.render(html, fragments: [
            "", "outcome=failed", "test=" + fail.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
            "sort=duration-desc", "q=fixture%20exploded", "outcome=flaky",
        ], in: folder)
        let (all, failed, opened, slowest, searched, flaky) = (doms[0], doms[1], doms[2], doms[3], doms[4], doms[5])

        // Every test, one row each, in node id order, with the JSON report's outcome.
        let rows = Self.rows(all)
        #expect(rows.map(\.nodeid) == expected.map(\.0), "\(rows)")
        #expect(rows.map(\.outcome) == expected.map(\.1))
        #expect(all.contains("<b id=\"shown\">\(tests.count)</b>"))
        // The chips count what the JSON totals count.
        let chips = Self.matches(#"data-outcome="([a-z_]+)" aria-pressed="(?:true|false)">[^<]*<b>(\d+)</b>"#, in: all)
        for chip in chips where chip[0] != "all" {
            #expect(Int(chip[1]) == totals[chip[0]], "chip \(chip[0])")
        }
        #expect(chips.first?[0] == "all" && Int(chips.first?[1] ?? "") == tests.count)
        #expect(Set(chips.map { $0[0] }) == Set(["all"] + totals.filter { $0.value > 0 && $0.key != "warnings" }.map(\.key)))
        // Test text stays text: the hostile node id is shown, never run.
        #expect(all.components(separatedBy: "<script").count - 1 == 2, "only the page's own scripts")
        #expect(all.contains("test_param[a|b-&lt;script&gt;alert('pwned')&lt;/script&gt;]"))
        #expect(!all.contains("<img"))

        let failing = Self.rows(failed)
        #expect(failing.map(\.nodeid) == expected.filter { $0.1 == "failed" }.map(\.0))
        #expect(failed.contains("data-outcome=\"failed\" aria-pressed=\"true\""))

        // A link to one test opens its details: failure text, captured sections.
        #expect(Self.rows(opened).map(\.nodeid) == [fail])
        let details = try #require(Self.matches(#"<tr class="d">(.*?)</tr>"#, in: opened).first?.first)
        let failText = try #require(tests.first { $0["nodeid"] as? String == fail }?["details"] as? String)
        let shown = Self.matches(#"<pre class="failure">(.*?)</pre>"#, in: details).first.map { Self.unescape($0[0]) }
        #expect(shown == Escape.visible(failText), "the failure text, colours dropped, controls visible: \(details)")
        #expect(details.contains("<h4>Captured stdout call</h4>") && details.contains("<h4>Captured log call</h4>"))
        #expect(details.contains("careful &lt;/pre&gt;&lt;script&gt;"), "captured text shown as text")

        #expect(Self.rows(slowest).first?.nodeid == "tests/test_b.py::TestGroup::test_hang", "sorted by duration")
        #expect(Self.rows(searched).map(\.nodeid) == ["tests/test_a.py::test_error"], "search reads messages and tracebacks")
        #expect(Self.rows(flaky).map(\.nodeid) == ["tests/test_b.py::test_flaky"])
    }

    @Test func readableOnANarrowPhone() async throws {
        let folder = try TemporaryFolder("arun-html-phone")
        let (queue, writer) = try await Fixtures.everyOutcome(in: folder)
        let report = try await RunReport.load(run: writer.run.id, from: queue, output: true)
        // Chromium will not make a window narrower than ~500 px: the page goes in a 390 px
        // frame (its own viewport, so the page's phone layout applies), and the wrapper
        // measures it once loaded.
        try folder.write("phone.html", report.render(.html))
        let wrapper = try folder.write("wrapper.html", """
            <!DOCTYPE html><html><body>
            <iframe id="page" src="phone.html#test=tests%2Ftest_a.py%3A%3Atest_fail" style="width:390px;height:844px;border:0"></iframe>
            <script>
            document.getElementById("page").addEventListener("load", function () {
              var page = this.contentDocument, pre = page.querySelector("tr.d pre.failure");
              document.body.setAttribute("data-probe", [page.documentElement.scrollWidth, page.documentElement.clientWidth,
                pre ? Math.round(pre.getBoundingClientRect().width) : -1].join(" "));
            });
            </script></body></html>
            """)
        let dom = try Self.render(wrapper, fragments: [""], in: folder, extra: ["--allow-file-access-from-files"])[0]
        let probed = try #require(Self.matches(#"data-probe="(\d+) (\d+) (-?\d+)""#, in: dom).first)
        let (scroll, client, pre) = (Int(probed[0]) ?? 0, Int(probed[1]) ?? 0, Int(probed[2]) ?? 0)
        #expect(client <= 400, "the page is laid out for the phone: \(probed)")
        #expect(scroll <= client, "no sideways scrolling of the page: \(probed)")
        #expect(pre >= client - 60, "tracebacks use the width and scroll inside their box: \(probed)")
    }
}
