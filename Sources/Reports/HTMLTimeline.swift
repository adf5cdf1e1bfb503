import Foundation
import Queue

/// The HTML report's timeline: one lane per worker, one bar per job attempt from its claim
/// to its completion, coloured by what that attempt recorded (a first attempt whose tests
/// failed stays red when a retry later passed them).
extension RunReport {
    func timelineSection() -> String {
        let h = Escape.html
        let timed = jobs.filter { $0.worker != nil && $0.startedAt != nil }.prefix(Self.htmlTimelineLimit)
        guard let start = timed.compactMap(\.startedAt).min() else {
            return "<h2>Timeline</h2>\n<p class=\"none\">No job has started yet.</p>\n"
        }
        let end = max(timed.compactMap { $0.finishedAt ?? $0.startedAt }.max() ?? start, start)
        let span = max(end - start, 0.001)
        let lanes = Array(Set(timed.compactMap(\.worker))).sorted { $0.localizedStandardCompare($1) == .orderedAscending }
        let laneIndex = Dictionary(uniqueKeysWithValues: lanes.enumerated().map { ($1, $0) })
        let failing = failingJobs()
        let label = 200.0, width = 1000.0, laneHeight = 22.0, top = 20.0
        let plot = width - label - 40  // room for the last tick label
        let height = top + Double(lanes.count) * laneHeight + 10
        var svg = "<div class=\"scroll\"><svg class=\"timeline\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" "
        svg += "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"jobs per worker over time\">\n"
        for tick in 0...5 {
            let x = label + plot * Double(tick) / 5
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top - 4))\" x2=\"\(f(x))\" y2=\"\(f(height - 10))\" class=\"tick\"/>"
            svg += "<text x=\"\(f(x))\" y=\"12\" class=\"axis\">\(h(Format.seconds(span * Double(tick) / 5)))</text>\n"
        }
        for (index, lane) in lanes.enumerated() {
            let y = top + Double(index) * laneHeight
            svg += "<text x=\"\(f(label - 6))\" y=\"\(f(y + 15))\" class=\"lane\">\(h(lane.clipped(32)))<title>\(h(lane))</title></text>\n"
        }
        for job in timed {
            guard let worker = job.worker, let lane = laneIndex[worker], let started = job.startedAt else { continue }
            let finished = job.finishedAt ?? end
            let x = label + (started - start) / span * plot
            let w = max(1, (finished - started) / span * plot)
            let y = top + Double(lane) * laneHeight + 3
            var kind: String
            switch job.state {
            case .done: kind = failing.contains(JobKey(source: job.source, id: job.id)) ? "bad" : "ok"
            case .failed, .dead: kind = "dead"
            case .running, .queued: kind = "open"
            case .cancelled: kind = "cancelled"
            }
            if job.attempts > 1 { kind += " again" }
            var tip = "\(job.name) · \(worker) · \(Format.seconds(finished - started)) · \(job.state.rawValue)"
            if job.attempts > 1 { tip += " · claim \(job.attempts)" }
            svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(laneHeight - 6))\" class=\"\(kind)\">"
            svg += "<title>\(h(tip))</title></rect>\n"
        }
        svg += "</svg></div>\n"
        var out = "<h2>Timeline</h2>\n" + svg
        out += "<p class=\"legend\"><span class=\"ok\"></span>job passed <span class=\"bad\"></span>job recorded failures "
        out += "<span class=\"dead\"></span>job failed or dead <span class=\"open\"></span>unfinished "
        out += "<span class=\"again\"></span>claimed again after a lost worker</p>\n"
        return out
    }

    struct JobKey: Hashable {
        var source: Int
        var id: JobID
    }

    /// Jobs that recorded a failing result: a test's final attempt or any earlier one.
    func failingJobs() -> Set<JobKey> {
        var failing = Set<JobKey>()
        for index in tests.indices {
            let source = tests[index].source
            if tests[index].failing, let job = tests[index].job { failing.insert(JobKey(source: source, id: job)) }
            for attempt in tests[index].earlierFailures {
                if let job = attempt.job { failing.insert(JobKey(source: source, id: job)) }
            }
        }
        return failing
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
