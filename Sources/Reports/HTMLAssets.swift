/// The HTML report's inline style sheet and script.
enum HTMLAssets {
    static let css = """
        *{box-sizing:border-box}
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1b1f24;background:#fff}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        h4{font-size:12px;margin:10px 0 2px;color:#57606a;font-weight:600}
        .line{font-size:16px;margin:4px 0}.meta,.none,footer,.legend{color:#57606a}footer{margin-top:32px;font-size:12px}
        .status{font-size:13px;padding:2px 8px;border-radius:10px;vertical-align:middle;background:#eee}
        .status.complete{background:#dafbe1}.status.interrupted{background:#ffebe9}.status.incomplete{background:#fff8c5}
        .cards{display:flex;flex-wrap:wrap;gap:8px;margin:16px 0}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:70px}
        .card b{display:block;font-size:20px}.card.failed b,.card.error b,.card.crashed b,.card.timeout b{color:#cf222e}
        .card.passed b{color:#1a7f37}.card.flaky b{color:#9a6700}
        .chips{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0}
        .chips button{font:inherit;border:1px solid #d0d7de;border-radius:14px;background:#f6f8fa;padding:3px 10px;cursor:pointer}
        .chips button[aria-pressed=true]{background:#0969da;border-color:#0969da;color:#fff}
        .tools{display:flex;flex-wrap:wrap;gap:8px;align-items:center}.count{color:#57606a}
        #search{flex:1 1 260px;max-width:480px;padding:6px 8px;font-size:14px}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eee;vertical-align:top}
        th button{font:inherit;font-weight:600;border:0;background:none;padding:0;cursor:pointer;color:inherit}
        th button.active::after{content:" \\25B2"}th button.active.desc::after{content:" \\25BC"}
        .num{text-align:right;font-variant-numeric:tabular-nums}td.worker{white-space:nowrap}
        code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
        pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:8px;margin:4px 0;overflow:auto;max-height:480px;white-space:pre;max-width:100%}
        tr.t{cursor:pointer}tr.t:hover{background:#f6f8fa}tr.open{background:#f6f8fa}
        tr.d>td{padding:4px 8px 12px;max-width:0}
        .message{color:#57606a;margin-top:2px;white-space:pre-wrap;overflow-wrap:anywhere}
        .t.failed .message,.t.error .message,.t.crashed .message,.t.timeout .message{color:#cf222e}
        .outcome{font-weight:600;text-transform:uppercase;font-size:12px;white-space:nowrap}
        .outcome.failed,.outcome.error,.outcome.crashed,.outcome.timeout{color:#cf222e}.outcome.passed{color:#1a7f37}
        .outcome.skipped,.outcome.xfailed,.outcome.not_run,.outcome.pending{color:#9a6700}
        .badge{display:inline-block;font-size:11px;padding:0 6px;border-radius:8px;background:#fff8c5;color:#9a6700;margin-left:6px}
        .scroll{overflow-x:auto}
        svg.timeline{border:1px solid #eee;background:#fcfcfd;min-width:600px}svg .tick{stroke:#eee}svg .axis{font-size:10px;fill:#57606a;text-anchor:middle}
        svg .lane{font-size:11px;fill:#1b1f24;text-anchor:end}svg rect.ok{fill:#2da44e}svg rect.bad{fill:#cf222e}
        svg rect.dead{fill:#6e1c1c}svg rect.open{fill:#bf8700}svg rect.cancelled{fill:#8c959f}svg rect.again{stroke:#1b1f24;stroke-dasharray:3 2}svg rect:hover{opacity:.7}
        .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}.legend .ok{background:#2da44e}
        .legend .bad{background:#cf222e}.legend .dead{background:#6e1c1c}.legend .open{background:#bf8700}.legend .again{border:1px dashed #1b1f24}
        @media (max-width:600px){
        body{margin:12px auto;padding:0 8px}th.worker,td.worker{display:none}
        th,td{padding:4px}.card{padding:6px 10px;min-width:0}
        }
        """

    /// Renders the test table from the embedded JSON: filter chips, search, sort, rows
    /// added a few hundred at a time as the reader scrolls, details built when a row opens.
    /// The address's fragment keeps the state (`#outcome=failed&q=login&sort=duration&test=…`),
    /// so a link can point at one test. Test text reaches the DOM through `textContent` only.
    static let script = """
        (function () {
          "use strict";
          var data = JSON.parse(document.getElementById("arun-data").textContent);
          var tests = data.tests, details = data.details, names = data.outcomes;
          var BATCH = 300;
          var body = document.querySelector("#tests tbody");
          var shown = document.getElementById("shown");
          var more = document.getElementById("more");
          var search = document.getElementById("search");
          var state = { outcome: "all", q: "", sort: "name", desc: false, test: null };
          var rank = { failed: 0, error: 1, crashed: 2, timeout: 3, xpassed: 4, not_run: 5, pending: 6,
                       skipped: 7, xfailed: 8, passed: 9 };
          var view = [], rendered = 0, hay = null;

          function nodeid(t) { return t[0] >= 0 ? data.files[t[0]] + t[1] : t[1]; }
          function outcome(t) { return names[t[2]]; }
          function el(tag, cls, text) {
            var e = document.createElement(tag);
            if (cls) e.className = cls;
            if (text !== undefined && text !== null) e.textContent = text;
            return e;
          }
          function haystack(i) {
            if (!hay) hay = new Array(tests.length);
            var h = hay[i];
            if (h === undefined) {
              var t = tests[i], d = t[8] >= 0 ? details[t[8]] : null;
              h = nodeid(t) + "\\n" + (t[7] || "");
              if (d && d.t) h += "\\n" + d.t;
              if (d && d.e) d.e.forEach(function (a) { h += "\\n" + (a[4] || "") + "\\n" + (a[5] || ""); });
              h = hay[i] = h.toLowerCase();
            }
            return h;
          }
          function keep(i) {
            var t = tests[i];
            if (state.outcome === "flaky") { if (!t[6]) return false; }
            else if (state.outcome !== "all" && outcome(t) !== state.outcome) return false;
            if (!state.q) return true;
            var h = haystack(i), words = state.q.toLowerCase().split(/\\s+/);
            for (var w = 0; w < words.length; w++) if (words[w] && h.indexOf(words[w]) < 0) return false;
            return true;
          }
          function compute() {
            view = [];
            for (var i = 0; i < tests.length; i++) if (keep(i)) view.push(i);
            var sign = state.desc ? -1 : 1;
            if (state.sort === "duration") {
              view.sort(function (a, b) { return sign * (tests[a][3] - tests[b][3]) || a - b; });
            } else if (state.sort === "outcome") {
              view.sort(function (a, b) { return sign * (rank[outcome(tests[a])] - rank[outcome(tests[b])]) || a - b; });
            } else if (state.desc) {
              view.reverse();
            }
          }
          function row(i) {
            var t = tests[i], tr = el("tr", "t " + outcome(t));
            tr.setAttribute("data-i", i);
            var status = el("td", "outcome " + outcome(t), outcome(t).replace("_", " "));
            tr.appendChild(status);
            var cell = el("td");
            cell.appendChild(el("code", "id", nodeid(t)));
            if (t[6]) cell.appendChild(el("span", "badge", "flaky"));
            if (t[5] > 1) cell.appendChild(el("span", "badge", "attempt " + t[5]));
            if (t[7]) cell.appendChild(el("div", "message", t[7]));
            tr.appendChild(cell);
            tr.appendChild(el("td", "num", outcome(t) === "pending" ? "" : t[3].toFixed(3)));
            tr.appendChild(el("td", "worker", t[4] >= 0 ? data.workers[t[4]] : ""));
            tr.addEventListener("click", function () { toggle(tr); });
            return tr;
          }
          function sections(box, list) {
            (list || []).forEach(function (s) { box.appendChild(el("h4", null, s[0])); box.appendChild(el("pre", "section", s[1])); });
          }
          function detailRow(i) {
            var t = tests[i], d = t[8] >= 0 ? details[t[8]] : {};
            var tr = el("tr", "d"), td = el("td");
            td.colSpan = 4;
            var o = outcome(t);
            if (t[7] && (o === "skipped" || o === "xfailed" || o === "xpassed" || o === "not_run")) {
              td.appendChild(el("h4", null, o === "skipped" ? "skip reason" : o === "not_run" ? "why not run" : "xfail reason"));
              td.appendChild(el("div", "reason", (d.l ? d.l + ": " : "") + t[7]));
            }
            if (d.t) { td.appendChild(el("h4", null, "failure")); td.appendChild(el("pre", "failure", d.t)); }
            sections(td, d.s);
            (d.e || []).forEach(function (a) {
              var head = "attempt " + a[0] + ": " + a[1] + (a[3] ? " on " + a[3] : "") + " in " + a[2].toFixed(3) + "s";
              td.appendChild(el("h4", "attempt", head));
              if (a[5] || a[4]) td.appendChild(el("pre", "failure", a[5] || a[4]));
              sections(td, a[6]);
            });
            if (d.e) td.appendChild(el("h4", "attempt", "attempt " + t[5] + ": " + o + (t[4] >= 0 ? " on " + data.workers[t[4]] : "")));
            if (!td.childNodes.length) td.appendChild(el("div", "none", "Nothing captured."));
            tr.appendChild(td);
            return tr;
          }
          function toggle(tr) {
            var next = tr.nextSibling;
            if (next && next.className === "d") { body.removeChild(next); tr.classList.remove("open"); return; }
            body.insertBefore(detailRow(+tr.getAttribute("data-i")), next);
            tr.classList.add("open");
          }
          function renderMore() {
            var end = Math.min(view.length, rendered + BATCH), frag = document.createDocumentFragment();
            for (var k = rendered; k < end; k++) frag.appendChild(row(view[k]));
            body.appendChild(frag);
            rendered = end;
            more.hidden = rendered >= view.length;
            more.textContent = "Show more (" + (view.length - rendered) + " left)";
          }
          function refresh() {
            compute();
            body.textContent = "";
            rendered = 0;
            renderMore();
            shown.textContent = String(view.length);
            var buttons = document.querySelectorAll("#chips button");
            for (var b = 0; b < buttons.length; b++) {
              buttons[b].setAttribute("aria-pressed", String(buttons[b].getAttribute("data-outcome") === state.outcome));
            }
            var heads = document.querySelectorAll("#tests th button");
            for (var h = 0; h < heads.length; h++) {
              var on = heads[h].getAttribute("data-sort") === state.sort;
              heads[h].classList.toggle("active", on);
              heads[h].classList.toggle("desc", on && state.desc);
            }
          }
          function save() {
            var parts = [];
            if (state.outcome !== "all") parts.push("outcome=" + encodeURIComponent(state.outcome));
            if (state.q) parts.push("q=" + encodeURIComponent(state.q));
            if (state.sort !== "name" || state.desc) parts.push("sort=" + state.sort + (state.desc ? "-desc" : ""));
            history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search);
          }
          function load() {
            location.hash.replace(/^#/, "").split("&").forEach(function (part) {
              var at = part.indexOf("="); if (at < 0) return;
              var key = part.slice(0, at), value = decodeURIComponent(part.slice(at + 1));
              if (key === "outcome") state.outcome = value;
              else if (key === "q") state.q = value;
              else if (key === "sort") { state.desc = /-desc$/.test(value); state.sort = value.replace(/-desc$/, ""); }
              else if (key === "test") state.test = value;
            });
            search.value = state.q;
          }
          document.getElementById("chips").addEventListener("click", function (event) {
            var button = event.target.closest("button"); if (!button) return;
            state.outcome = button.getAttribute("data-outcome");
            refresh(); save();
          });
          document.querySelector("#tests thead").addEventListener("click", function (event) {
            var button = event.target.closest("button"); if (!button) return;
            var sort = button.getAttribute("data-sort");
            state.desc = state.sort === sort ? !state.desc : sort === "duration";
            state.sort = sort;
            refresh(); save();
          });
          var timer = null;
          search.addEventListener("input", function () {
            clearTimeout(timer);
            timer = setTimeout(function () { state.q = search.value.trim(); refresh(); save(); }, 150);
          });
          more.addEventListener("click", renderMore);
          if ("IntersectionObserver" in window) {
            new IntersectionObserver(function (entries) {
              if (entries[0].isIntersecting && !more.hidden) renderMore();
            }, { rootMargin: "600px" }).observe(more);
          }
          load();
          if (state.test !== null) {
            // A link to one test: show it alone, opened.
            state.q = state.test; search.value = state.test;
            refresh();
            var rows = body.querySelectorAll("tr.t");
            for (var r = 0; r < rows.length; r++) {
              if (nodeid(tests[+rows[r].getAttribute("data-i")]) === state.test) toggle(rows[r]);
            }
          } else {
            refresh();
          }
          document.body.setAttribute("data-first-render-ms", String(Math.round(performance.now())));
        })();
        """
}
