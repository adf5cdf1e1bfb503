"""arun's pytest plugin: collect mode and serve mode.

The arun binary embeds this file, writes it to a temporary directory, puts
that directory on PYTHONPATH and starts ``python -m pytest -p arun_plugin``.
Stdlib only, one file, no output on stdout outside the protocol.

Collect mode: ``--arun-collect=OUT_PATH [--arun-exprs=JSON_PATH]``
    Ordinary pytest collection, nothing is run (the session ends like
    ``--collect-only``).  JSON lines are written to OUT_PATH, never stdout:

      {"ev":"item","nodeid","path","file","marks","matches"}  one per item,
          in final collection order (after -m/-k/--deselect and plugins);
          "path" absolute, "file" relative to rootdir with "/", "marks"
          sorted unique mark names, "matches" indices into JSON_PATH's
          array of -m style expressions that select the item.
      {"ev":"file","path","file"}  with --arun-files, instead of items: one
          per test file the command-line paths select (not the siblings
          pytest lists on the way to a narrower path), none imported.
      {"ev":"collect_error","location","message"}  per failed collector;
          "message" holds the lines pytest shows under "ERROR collecting".
      {"ev":"bad_expr","index","expr","message"}  per expression that does
          not compile; nothing is collected and pytest exits with 4.
      {"ev":"done","count","rootdir","errors"}  last line.
    Exit code is pytest's own for --collect-only (0, 2 on collection errors,
    5 when nothing was collected), 4 for bad expressions or usage errors.

Serve mode: env ``ARUN_SERVE=1`` (what arun sets; read once when this module
is imported, then removed from os.environ so the tests' own subprocesses do
not inherit it) or the ``--arun-serve`` flag.  The protocol moves off the
standard streams at import time: stdin is duplicated to a private control fd
and stdout to a private events fd, then fd 0 becomes /dev/null and fd 1
becomes a copy of fd 2, so pytest's and the tests' output goes to stderr.
Control lines (parent -> child stdin), one JSON object per line:

      {"job": ID, "tests_file": PATH}  PATH holds a JSON array of node ids
          (relative to rootdir, as collect mode printed them); an inline
          "tests": [...] array is accepted instead of "tests_file".
      {"job": ID, "files": [PATH, ...]}  every test of these files (relative
          to rootdir); job_start then lists them in "items".
      Either may carry "maxfail": N, the failures the run may still take
          (-x/--maxfail across jobs): the job stops where pytest would stop
          after N more failures; absent, pytest's own --maxfail applies.
      {"quit": true} or EOF  ends the loop; pytest then finishes normally.

Events (child stdout), one JSON object per line.  Each line is written as it
happens, except a result, which goes out in one write() with the event after
it (the next start, or job_done):

      {"ev":"ready","pid","rootdir","pytest"}
      {"ev":"job_start","job","collected","missing","errors":[{location,message}],
          "items":[[nodeid, file, [marks]], ...]  (files jobs only)}
      {"ev":"start","nodeid"}
      {"ev":"result","nodeid","outcome","duration","message","details",
          "stdout","stderr","teardown_error","call_outcome","subtests",
          "sections","head","skip_location","crash","warnings"}
          (fields after "duration" are left out when null or false)
      {"ev":"job_done","job","stopped"}   stopped: -x/--maxfail reason or null
      {"ev":"protocol_error","message"}   unreadable control line (skipped)
      {"ev":"refused","job","status","message"}  the job raised out of pytest's
          hooks (a collection hook, a warning turned error by filterwarnings):
          pytest then reports INTERNALERROR and exits with "status" (3), as
          serial pytest would; "message" is the INTERNALERROR's last lines.

    "outcome" is pytest's verdict for the test, one of passed | failed |
    error | skipped | xfailed | xpassed (a strict xpass is "failed").
    "message" is one line (crash message, skip/xfail reason) or null;
    "details" the failure text(s), at most 20,000 characters, end kept;
    "stdout"/"stderr" the captured output (null if none or -s), at most
    64 KiB of UTF-8 each, end kept; "sections" the captured sections pytest
    prints under a failure or error ([title, text] pairs such as ["Captured
    stdout call", "..."] and ["Captured log setup", "..."], from every phase,
    as --show-capture keeps them), for failed and errored tests and, with -rP
    or -rA, for passed ones; at most 32 KiB of UTF-8 together, the end of
    each kept; "head" pytest's headline for the test ("TestK.test_y[1]");
    "crash" the whole crash message when it has several lines (pytest
    prints it so in the short test summary on CI);
    "skip_location" where a skip is reported in the short test summary
    ("tests/test_a.py:12", or the file alone for a skip mark, as pytest folds
    them); "duration" is setup+call+teardown
    seconds; "subtests" is null or {"passed","failed","skipped","xfailed",
    "failures": [{"description","message"}] (at most 50)}; "warnings" counts
    the warnings pytest recorded for the test, plus the distinct ones recorded
    while collecting since the last result (pytest's "N warnings").
    To rebuild pytest's terminal totals: count each "outcome" once, except
    that "error" with "call_outcome": "passed" counts one "passed" and one
    "error" (call passed, teardown failed: pytest's "1 passed, 1 error");
    "teardown_error": true adds one "error" (teardown failed after a
    failed/errored/skipped/x-phase); each failed subtest adds one "failed".
    At verbosity != 0 (-q, -v) pytest 9 also shows subtests' skips as
    "skipped", xfails as "xfailed" and passes as "N subtests passed"; at
    the default verbosity it hides them.  A test whose `subtests` fixture
    subtests failed is "failed" ("contains N failed subtests"); a unittest
    test whose subTest failed stays "passed", as pytest 9 shows it.  (junit
    xml: failures = failed, errors = error, skipped = skipped + xfailed
    + subtests' skipped + xfailed.)

    Between jobs the session state is reset (testsfailed, shouldstop,
    shouldfail) and every test item is new; modules stay imported.  The
    process's exit code sums up all jobs: 1 if a test failed, 5 if nothing
    was ever collected, else 0.  Collection errors are listed in job_start (the
    ids they swallowed are in "missing"); as in pytest, the job then runs
    nothing and job_done says "Interrupted: N errors during collection",
    unless --continue-on-collection-errors, where it runs what collected.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import traceback

import pytest

_ENV_SERVE = "ARUN_SERVE"

# Bounds on what one result event carries, so a chatty test cannot make the
# parent buffer megabytes per line.
_MAX_DETAILS = 20_000  # characters, the end is kept (where the error is)
_MAX_OUTPUT = 64 * 1024  # bytes of UTF-8 per captured stream, end kept
_MAX_MESSAGE = 2_000  # characters of the one-line message
_MAX_SUBTEST_FAILURES = 50
_MAX_SECTIONS = 32 * 1024  # bytes of UTF-8 of one test's captured sections together


# --------------------------------------------------------------------------
# Serve mode: move the protocol off the standard streams as early as possible.
# --------------------------------------------------------------------------

_serve_fds: tuple[int, int] | None = None  # (control fd, events fd)


def _take_over_stdio() -> tuple[int, int]:
    """Give the protocol private copies of fd 0 and fd 1, then neuter them.

    Done at import time (pytest imports ``-p`` plugins before conftests and
    before the terminal reporter writes anything), so nothing pytest or a
    test prints can interleave with protocol lines.  os.dup() makes
    non-inheritable fds, so the tests' own subprocesses never hold our pipes
    open (which would hide EOF from the parent).
    """
    global _serve_fds
    if _serve_fds is None:
        control = os.dup(0)
        events = os.dup(1)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(2, 1)
        # Anything already buffered in sys.stdout now goes to stderr too.
        try:
            sys.stdout.flush()
        except Exception:
            pass
        _serve_fds = (control, events)
    return _serve_fds


def _die_with_parent() -> None:
    """Serve mode: end this pytest and its tests' processes when the arun worker that
    started it dies, whatever killed it (a ``kill -9`` leaves no orphans working on).

    A daemon thread polls the parent pid: PR_SET_PDEATHSIG would follow the parent's
    *thread*, which the parent's thread pool may retire at any time.
    """
    import signal
    import threading
    import time

    parent = os.getppid()
    if parent <= 1:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.25)
        # arun starts pytest as a process group leader: the group holds the tests' children.
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="arun-parent-watch", daemon=True).start()


_serve_from_env = os.environ.get(_ENV_SERVE) == "1"
if _serve_from_env:
    os.environ.pop(_ENV_SERVE, None)
    _take_over_stdio()
    _die_with_parent()


# --------------------------------------------------------------------------
# Small helpers shared by both modes.
# --------------------------------------------------------------------------


# One encoder for the whole run: json.dumps() with non-default arguments
# builds a new encoder per call, a measurable cost at two events per test.
# ensure_ascii=False keeps lines short for non-ASCII output.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _dumps(obj: dict) -> bytes:
    # "replace" turns lone surrogates (undecodable bytes in captured output)
    # into "?" so every line is valid UTF-8 for the Swift side.
    return (_ENCODER.encode(obj) + "\n").encode("utf-8", "replace")


def _write_all(fd: int, data: bytes) -> None:
    # os.write may write less than asked on a pipe; a line must go out whole.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _tail_chars(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    return f"[... {cut} characters truncated ...]\n" + text[cut:]


def _tail_bytes(text: str) -> str:
    # Cheap path first: 16 Ki characters are at most 64 KiB of UTF-8.
    if len(text) <= _MAX_OUTPUT // 4:
        return text
    data = text.encode("utf-8", "replace")
    if len(data) <= _MAX_OUTPUT:
        return text
    marker = f"[... {len(data) - _MAX_OUTPUT} bytes truncated ...]\n"
    keep = _MAX_OUTPUT - len(marker.encode())
    return marker + data[-keep:].decode("utf-8", "ignore")


def _tail_bytes_within(text: str, limit: int) -> str:
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    marker = f"[... {len(data) - limit} bytes truncated ...]\n"
    keep = max(0, limit - len(marker.encode()))
    return marker + data[len(data) - keep :].decode("utf-8", "ignore")


def _shown_sections(report, showcapture: str) -> list:
    """The captured sections pytest prints under a report (its _outrep_summary
    and teardown sections): [title, text] pairs, filtered by --show-capture,
    within _MAX_SECTIONS together (each section keeps its end)."""
    if showcapture == "no":
        return []
    picked = [
        [title, content]
        for title, content in getattr(report, "sections", ())
        if content and (showcapture == "all" or showcapture in title)
    ]
    total = sum(len(content) for _, content in picked)
    if total * 4 > _MAX_SECTIONS:
        sizes = [len(content.encode("utf-8", "replace")) for _, content in picked]
        if sum(sizes) > _MAX_SECTIONS:
            share = _MAX_SECTIONS // len(picked)
            for pair in picked:
                pair[1] = _tail_bytes_within(pair[1], share)
    return picked


def _skip_location(report, startpath) -> str | None:
    """Where the short test summary places a skip: "path:line", or the file
    alone for a skip mark (pytest folds those per file)."""
    longrepr = report.longrepr
    if not (isinstance(longrepr, tuple) and len(longrepr) == 3):
        return None
    try:
        # pytest's own folding rule (it changes between versions).
        from _pytest.terminal import _folded_skips

        _, fspath, lineno, _ = _folded_skips(startpath, [report])[0]
    except Exception:
        fspath, lineno, _ = longrepr
    return str(fspath) if lineno is None else f"{fspath}:{lineno}"


def _error_lines(text: str) -> str:
    """The lines of a collection error a reader needs, as pytest prints them
    under "ERROR collecting FILE": the "E   ..." lines verbatim (a SyntaxError's
    caret keeps its column), preceded by the last traceback entry's header and
    source when that entry is in the project (a relative path), not in pytest,
    importlib or site-packages.  Used for collection errors, whose reports have
    no crash summary for import errors."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    end = len(lines)
    while end > 0 and not lines[end - 1].startswith("E "):
        end -= 1
    if end == 0:
        # No "E" block (e.g. a plain string longrepr): first and last line.
        return lines[0] if len(lines) == 1 else lines[0] + "\n" + lines[-1]
    start = end
    while start > 0 and lines[start - 1].startswith("E "):
        start -= 1
    # Walk back to the "path:lineno: in func" header of that entry.
    head = start
    for back in range(start - 1, max(-1, start - 7), -1):
        if ": in " in lines[back] and not lines[back].startswith(" "):
            head = back
            break
    header = lines[head] if head < start else ""
    if header.startswith(("/", "<")) or "site-packages" in header:
        head = start
    return _tail_chars("\n".join(lines[head:end]), _MAX_MESSAGE)


def _report_text(report) -> str:
    """The failure text exactly as pytest's terminal prints it under a headline
    (longreprtext strips the first line's indentation and the blank line
    before a traceback); trailing newlines dropped."""
    try:
        import io

        from _pytest._io import TerminalWriter

        out = io.StringIO()
        writer = TerminalWriter(file=out)
        writer.hasmarkup = False
        report.toterminal(writer)
        return out.getvalue().rstrip("\n")
    except Exception:  # a plugin's odd longrepr must not kill the worker
        try:
            return report.longreprtext
        except Exception:
            return str(report.longrepr)


def _crash_message(report) -> str | None:
    """The whole crash message when it has more than one line (pytest prints it
    whole in the short test summary on CI); None otherwise."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if isinstance(message, str) and "\n" in message.strip():
        return _tail_chars(message.strip(), _MAX_MESSAGE)
    return None


def _one_line_message(report) -> str | None:
    """One-line reason of a phase report: crash message, skip reason or the
    first line of a string longrepr."""
    longrepr = report.longrepr
    if longrepr is None:
        return None
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        # Skips: (path, lineno, "Skipped: reason").
        message = str(longrepr[2])
        if message.startswith("Skipped: "):
            message = message[len("Skipped: ") :]
    else:
        crash = getattr(longrepr, "reprcrash", None)
        if crash is not None and getattr(crash, "message", None):
            message = crash.message
        elif isinstance(longrepr, str):
            message = longrepr
        else:
            # E.g. fixture lookup errors: the "E   fixture 'x' not found"
            # line; doctest failures: their closing "path:line: DocTestFailure".
            text = _report_text(report)
            e_lines = [l[1:].strip() for l in text.splitlines() if l.startswith("E ")]
            message = e_lines[0] if e_lines else text.rsplit("\n", 1)[-1]
    message = message.strip()
    line = message.split("\n", 1)[0].strip()
    if len(line) > _MAX_MESSAGE:
        line = line[: _MAX_MESSAGE - 3] + "..."
    return line or None


def _collection_warnings(config):
    """The warnings filters pytest applies while it collects (``filterwarnings``
    ini, ``-W``), so a warning at import or in a collection hook fails the same
    way as in ``pytest``'s own collection phase (pytest wraps only its
    ``pytest_collection`` hook in them; serve mode collects per job)."""
    try:
        from _pytest.warnings import catch_warnings_for_item
    except ImportError:
        return contextlib.nullcontext()
    return catch_warnings_for_item(config, ihook=config.hook, when="collect", item=None)


def _internal_error_lines(error: BaseException) -> str:
    """The lines pytest ends an INTERNALERROR with: the exception itself."""
    lines = traceback.format_exception_only(type(error), error)
    text = "".join("INTERNALERROR> " + line for line in "".join(lines).splitlines(True))
    return _tail_chars(text.rstrip("\n"), _MAX_MESSAGE)


def _collect_error(report) -> dict:
    location = report.nodeid or str(getattr(report, "fspath", "") or "<session>")
    return {"location": location, "message": _error_lines(_report_text(report))}


# --------------------------------------------------------------------------
# Options and mode selection.
# --------------------------------------------------------------------------


def pytest_addoption(parser) -> None:
    group = parser.getgroup("arun", "arun worker protocol (internal)")
    group.addoption(
        "--arun-collect",
        dest="arun_collect",
        metavar="OUT_PATH",
        default=None,
        help="collect only and write JSON lines describing the items to OUT_PATH",
    )
    group.addoption(
        "--arun-exprs",
        dest="arun_exprs",
        metavar="JSON_PATH",
        default=None,
        help="JSON array of -m style mark expressions to evaluate per item",
    )
    group.addoption(
        "--arun-files",
        dest="arun_files",
        action="store_true",
        default=False,
        help="with --arun-collect: list the test files pytest would collect, importing none of them",
    )
    group.addoption(
        "--arun-serve",
        dest="arun_serve",
        action="store_true",
        default=False,
        help="run jobs read from stdin, report events on stdout (also: ARUN_SERVE=1)",
    )


def pytest_configure(config) -> None:
    collect_path = config.getoption("arun_collect")
    serve = config.getoption("arun_serve") or _serve_from_env
    if collect_path and serve:
        raise pytest.UsageError("--arun-collect and --arun-serve are exclusive")
    if collect_path:
        mode = _CollectMode(config, collect_path, config.getoption("arun_exprs"))
        config.pluginmanager.register(mode, "arun-collect")
    elif serve:
        # Flag without env: take the streams now; the terminal reporter holds
        # sys.stdout (a file object on fd 1), so it follows fd 1 to stderr.
        control, events = _take_over_stdio()
        config.pluginmanager.register(_ServeMode(config, control, events), "arun-serve")


def _finish_quietly(config) -> None:
    """Skip the end-of-session work nobody reads, once this mode's work is done.

    The terminal reporter is unregistered so its summary hooks do not run: arun
    reports from the events, and they cost seconds (hypothesis's summary hook
    imports the whole hypothesis package, ~2 s here, at every pytest exit).  Not
    earlier: assertion explanations need the reporter's terminal writer while
    tests run.

    Every object alive now moves to the collector's permanent generation: pytest's
    unraisable-exception cleanup runs five full collections at exit to surface
    errors raised in finalizers, as warnings that serve and collect modes never
    show, and with every node, report and module of the session alive those took
    1-1.5 s of CPU per 10,000 tests here.
    """
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        config.pluginmanager.unregister(reporter, "terminalreporter")
    gc.freeze()


# --------------------------------------------------------------------------
# Collect mode.
# --------------------------------------------------------------------------


def _mark_matcher_factory():
    """Build the matcher `-m` itself uses, whatever this pytest calls it.

    pytest >= 8.x: MarkMatcher.from_markers(item.iter_markers()), supporting
    keyword matching like ``-m "slow(level=2)"``.  pytest 7.x:
    MarkMatcher.from_item(item).  Older: plain name membership.
    """
    try:
        from _pytest.mark import MarkMatcher
    except ImportError:
        MarkMatcher = None
    if MarkMatcher is not None and hasattr(MarkMatcher, "from_markers"):
        return lambda item, markers: MarkMatcher.from_markers(markers)
    if MarkMatcher is not None and hasattr(MarkMatcher, "from_item"):
        return lambda item, markers: MarkMatcher.from_item(item)

    def fallback(item, markers):
        names = {mark.name for mark in markers}
        return lambda name, **kwargs: name in names

    return fallback


class _CollectMode:
    def __init__(self, config, out_path: str, exprs_path: str | None) -> None:
        self.config = config
        self.count = 0
        self.errors = 0
        self.collected_ok = False
        self.rel_cache: dict = {}
        # --arun-files: pytest decides which files are test files (python_files,
        # testpaths, norecursedirs, collect_ignore) but no test module is imported;
        # the workers collect each file once, when they run it.
        self.files_only = bool(config.getoption("arun_files"))
        self.files: dict = {}
        # Compile the expressions before collection starts, so a typo costs
        # no import of the suite.
        texts = []
        if exprs_path:
            try:
                with open(exprs_path, encoding="utf-8") as f:
                    texts = json.load(f)
            except (OSError, ValueError) as e:
                raise pytest.UsageError(f"--arun-exprs: cannot read {exprs_path}: {e}")
            if not isinstance(texts, list):
                raise pytest.UsageError("--arun-exprs: expected a JSON array of strings")
        try:
            # The engine behind -m (private module, stable since pytest 6).
            from _pytest.mark.expression import Expression
        except ImportError as e:
            raise pytest.UsageError(f"arun: this pytest has no mark expression engine: {e}")
        self.exprs = []
        bad = []
        for index, text in enumerate(texts):
            try:
                if not isinstance(text, str):
                    raise TypeError(f"expected a string, got {type(text).__name__}")
                self.exprs.append(Expression.compile(text))
            except SyntaxError as e:
                bad.append((index, text, f"at column {e.offset}: {e.msg}"))
            except Exception as e:
                bad.append((index, text, str(e)))
        self.out = open(out_path, "wb")
        if bad:
            for index, text, message in bad:
                self._emit({"ev": "bad_expr", "index": index, "expr": text, "message": message})
            self.out.close()
            index, text, message = bad[0]
            raise pytest.UsageError(f"arun: bad mark expression #{index} {text!r}: {message}")
        self.matcher_for = _mark_matcher_factory()

    def _emit(self, obj: dict) -> None:
        self.out.write(_dumps(obj))

    @pytest.hookimpl(tryfirst=True)
    def pytest_pycollect_makemodule(self, module_path, parent):
        if not self.files_only:
            return None
        # Not recorded here: pytest >= 8 lists every directory on the way to a
        # narrower path and makes a node for each sibling file it meets.  Only
        # the nodes the given paths select are collected (_FileOnly.collect).
        return _FileOnly.from_parent(parent, path=module_path, mode=self)

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.errors += 1
            self._emit({"ev": "collect_error", **_collect_error(report)})

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self) -> None:
        # perform_collect() only gets here when collection did not raise, so
        # this tells pytest_collection_finish (called from a `finally`) that
        # session.items is the real, final list.
        self.collected_ok = True

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session) -> None:
        if self.collected_ok:
            self._write_items(session)
        # From here on behave exactly like --collect-only: pytest's own
        # runtestloop returns without running (after raising Interrupted on
        # collection errors, which gives exit code 2), and the cache plugin
        # skips rewriting lastfailed/nodeids.  Set only now so the terminal
        # reporter, which ran before us, does not print the collected tree.
        self.config.option.collectonly = True
        _finish_quietly(self.config)

    def _write_items(self, session) -> None:
        rootpath = self.config.rootpath
        if self.files_only:
            # Files other plugins collect (doctest text files, --doctest-modules,
            # YAML suites) hold the items; a test module's stand-in holds none.
            for item in session.items:
                self.files[item.path] = None
            lines = [
                _dumps({"ev": "file", "path": str(path),
                        "file": os.path.relpath(path, rootpath).replace(os.sep, "/")})
                for path in self.files
            ]
            self.out.write(b"".join(lines))
            self.count = len(lines)
            return
        exprs = self.exprs
        matcher_for = self.matcher_for
        rel_cache = self.rel_cache
        lines = []
        for item in session.items:
            path = item.path
            rel = rel_cache.get(path)
            if rel is None:
                rel = os.path.relpath(path, rootpath).replace(os.sep, "/")
                rel_cache[path] = rel
            markers = list(item.iter_markers())
            matches = []
            if exprs:
                matcher = matcher_for(item, markers)
                matches = [i for i, expr in enumerate(exprs) if expr.evaluate(matcher)]
            lines.append(
                _dumps(
                    {
                        "ev": "item",
                        "nodeid": item.nodeid,
                        "path": str(path),
                        "file": rel,
                        "marks": sorted({mark.name for mark in markers}),
                        "matches": matches,
                    }
                )
            )
        self.out.write(b"".join(lines))
        self.count = len(lines)

    def pytest_sessionfinish(self, session) -> None:
        self._emit(
            {
                "ev": "done",
                "count": self.count,
                "rootdir": str(self.config.rootpath),
                "errors": self.errors,
            }
        )
        self.out.flush()

    def pytest_unconfigure(self) -> None:
        self.out.close()


class _FileOnly(pytest.File):
    """A test file seen but not imported (``--arun-files``)."""

    def __init__(self, *args, mode=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.arun_mode = mode

    def collect(self):
        # Called only for files the command-line paths select, once each.
        if self.arun_mode is not None:
            self.arun_mode.files[self.path] = None
        return []


# --------------------------------------------------------------------------
# Serve mode.
# --------------------------------------------------------------------------


def _subtest_report_classes() -> tuple:
    """SubtestReport (pytest 9 built-in) or, on older pytest, SubTestReport
    of the pytest-subtests plugin when that plugin is loaded (looked up in
    sys.modules: importing it ourselves could activate it)."""
    try:
        from _pytest.subtests import SubtestReport

        return (SubtestReport,)
    except ImportError:
        pass
    plugin = sys.modules.get("pytest_subtests.plugin")
    report_class = getattr(plugin, "SubTestReport", None)
    return (report_class,) if isinstance(report_class, type) else ()


def _failed_subtests_counter(config):
    """pytest 9's own per-nodeid count of failed ``subtests`` fixture
    subtests, the one that decides whether a passing test is shown as failed
    ("contains N failed subtests").  unittest's subTest failures are not in
    it, and pytest shows such a test as passed, so our own count would be
    wrong there.  None when this pytest has no built-in subtests."""
    try:
        from _pytest.subtests import failed_subtests_key

        return config.stash[failed_subtests_key]
    except Exception:
        return None


def _subtest_description(report) -> str:
    describe = getattr(report, "_sub_test_description", None)
    if describe is not None:
        try:
            return describe()
        except Exception:
            pass
    context = getattr(report, "context", None)
    return str(context) if context is not None else "(<subtest>)"


def _catching_collect_warnings(config):
    """pytest records collection warnings inside its pytest_collection hook; a
    job's collection runs later, inside the run loop, so it is wrapped the same
    way (pytest_warning_recorded with when="collect")."""
    try:
        from _pytest.warnings import catch_warnings_for_item

        return catch_warnings_for_item(config, ihook=config.hook, when="collect", item=None)
    except Exception:
        import contextlib

        return contextlib.nullcontext()


def _unset_stop_flags(session) -> None:
    # pytest >= 8 guards shouldfail/shouldstop with setters that refuse to go
    # back to False (they assume the session is ending); a job boundary is a
    # fresh start for us, so reset the backing attributes directly.
    state = vars(session)
    for name in ("shouldfail", "shouldstop"):
        if "_" + name in state:
            state["_" + name] = False
        else:
            setattr(session, name, False)


def _install_directory_cache(session) -> None:
    """Collect each directory once per process, not once per job.

    A job's files are collection arguments, and pytest resolves every argument
    from the root down: each job rebuilt the Dir node of every directory on the
    way and listed it, making a Module node for each of its files (100 per
    directory in a big suite), to keep the one it wanted.  That was ~10 % of a
    worker's time on trivial tests.  Here a directory's node and its listing
    live as long as the process, as they do in one ordinary pytest session; only
    successful listings are kept, so a failing directory is retried and
    reported by every job that needs it.  A listing depends on the job's
    arguments in one way: a file named explicitly is collected even when it
    does not match ``python_files``; a job naming a file its directory's kept
    listing lacks gets a fresh listing.  Module nodes are re-collected per job
    as before (fresh items).  pytest < 8 has no Directory nodes: left alone.
    """
    directory = getattr(pytest, "Directory", None)
    collect_path = getattr(session, "_collect_path", None)
    collect_one = getattr(session, "_collect_one_node", None)
    if directory is None or collect_path is None or collect_one is None:
        return
    paths: dict = {}
    listings: dict = {}
    # The job's named paths by parent directory, rebuilt when a new collection
    # starts (pytest sets a new _initialpaths set per perform_collect).
    named: dict = {"initial": None, "by_parent": {}}

    def named_in(directory) -> list:
        initial = getattr(session, "_initialpaths", None)
        if named["initial"] is not initial:
            by_parent: dict = {}
            for path in initial or ():
                by_parent.setdefault(path.parent, []).append(path)
            named["initial"], named["by_parent"] = initial, by_parent
        return named["by_parent"].get(directory, [])

    def cached_collect_path(path, _per_call_cache):
        return collect_path(path, paths)

    def cached_collect_one(node, handle_dupes=True):
        if not isinstance(node, directory):
            return collect_one(node, handle_dupes)
        kept = listings.get(node)
        if kept is not None:
            report, listed = kept
            if any(path not in listed for path in named_in(node.path)):
                kept = None
        if kept is None:
            report, duplicate = collect_one(node, handle_dupes)
            if report.passed:
                listings[node] = (report, {getattr(n, "path", None) for n in report.result})
            return report, duplicate
        # A listing from an earlier job: new to this collection, so not a duplicate
        # (genitems would skip its children); it passed, so nothing to report again.
        session._collection_cache[node] = report
        return report, False

    session._collect_path = cached_collect_path
    session._collect_one_node = cached_collect_one


def _install_fixture_dedup(session) -> None:
    """Keep the fixture registry from growing one copy per job.

    Every job re-collects its modules, and pytest (>= 8.1) re-registers the
    fixtures of node-bound holders each time: class fixtures (parsed from a
    fresh instance) and the xunit setup_module/setup_method shims.  Stale
    copies would pile up and, worse, a fixture that overrides a same-named
    one (``def f(self, f)``) would wrap its own previous copy.  A registration
    for (name, nodeid) therefore replaces an earlier one for the same pair; in
    a plain one-collection session such pairs are unique, so nothing changes
    there.  Older pytest has no _register_fixture and is left alone.
    """
    manager = getattr(session, "_fixturemanager", None)
    original = getattr(manager, "_register_fixture", None)
    defs = getattr(manager, "_arg2fixturedefs", None)
    autouse = getattr(manager, "_nodeid_autousenames", None)
    if original is None or not isinstance(defs, dict) or not isinstance(autouse, dict):
        return
    if getattr(original, "_arun_dedup", False):
        return

    def register(*args, **kwargs):
        name = kwargs.get("name")
        nodeid = kwargs.get("nodeid")
        if name and nodeid:
            existing = defs.get(name)
            if existing:
                existing[:] = [d for d in existing if getattr(d, "baseid", None) != nodeid]
            names = autouse.get(nodeid)
            if names and name in names:
                names[:] = [n for n in names if n != name]
        return original(*args, **kwargs)

    register._arun_dedup = True
    manager._register_fixture = register


class _ServeMode:
    def __init__(self, config, control_fd: int, events_fd: int) -> None:
        self.config = config
        self.control_fd = control_fd
        self.events_fd = events_fd
        self.subtest_classes = _subtest_report_classes()
        self.failed_subtests = None  # pytest 9's counter, found once configured
        # Set while a job's collection runs: node ids it asked for, and the
        # list its collection errors go to.
        self.wanted: set | None = None
        self.job_errors: list | None = None
        # The current job's failure budget ("maxfail" in its control line).
        self.job_maxfail: int | None = None
        # Encoded events waiting for the next write (see _hold).
        self._held = b""
        # The last result, still a dict: pytest reports a test's warnings after its
        # logfinish, and they are added to it before it is encoded (_hold).
        self._result: dict | None = None
        # Collection warnings of this process already counted (pytest counts one
        # per distinct warning in its one collection), and those not yet given to
        # a result: they go with the next job's first test.
        self._collect_warnings_seen: set = set()
        self._collect_warnings = 0
        # What pytest's terminal would show: -r characters (P: passed tests' output
        # too) and --show-capture.
        option = config.option
        self.show_capture = getattr(option, "showcapture", "all") or "all"
        try:
            from _pytest.terminal import getreportopt

            reportopts = getreportopt(config)
        except Exception:
            reportopts = getattr(option, "reportchars", "") or ""
        self.passes_output = "P" in reportopts or "A" in reportopts
        self.xpasses_output = "X" in reportopts
        self.startpath = getattr(config.invocation_params, "dir", None) or config.rootpath
        # Per-test accumulation between logstart and logfinish.
        self._reset_test()

    def _emit(self, obj: dict) -> None:
        # Unbuffered (with any held result): a crash later loses nothing already
        # reported, and the parent sees each event as it happens.
        self._hold(obj)
        self._flush()

    def _hold_result(self, event: dict) -> None:
        self._encode_result()
        self._result = event

    def _encode_result(self) -> None:
        if self._result is not None:
            self._held += _dumps(self._result)
            self._result = None

    def pytest_warning_recorded(self, warning_message, when, nodeid, location) -> None:
        """Counted as pytest's terminal counts them ("1 warning"): each warning a
        test recorded, and each distinct one recorded while collecting."""
        if when == "runtest":
            if self._result is not None and self._result.get("nodeid") == nodeid:
                self._result["warnings"] = self._result.get("warnings", 0) + 1
        elif when == "collect":
            key = (str(warning_message.message), warning_message.category, warning_message.filename,
                   warning_message.lineno)
            if key not in self._collect_warnings_seen:
                self._collect_warnings_seen.add(key)
                self._collect_warnings += 1

    def _hold(self, obj: dict) -> None:
        """A result waits for the next event (the next test's start, or job_done)
        and goes out in the same write: one write and one wake-up of the parent per
        test instead of two.  Between a test's logfinish and the next logstart no
        test code runs, so a crash cannot strand a held result; a stop or an
        interrupt flushes it (`_flush`)."""
        self._encode_result()
        self._held += _dumps(obj)

    def _flush(self) -> None:
        self._encode_result()
        if self._held:
            held, self._held = self._held, b""
            _write_all(self.events_fd, held)

    # ---- collection --------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session):
        # The command-line paths only anchor rootdir, ini and conftest
        # discovery (so they match the planner's); jobs collect their own.
        session.items = []
        session.testscollected = 0
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items) -> None:
        # Keep only the job's node ids, before other plugins (-k, -m, --lf,
        # fixture reordering) look at the list.
        wanted = self.wanted
        if wanted is not None:
            items[:] = [item for item in items if item.nodeid in wanted]

    def pytest_collectreport(self, report) -> None:
        if report.failed and self.job_errors is not None:
            self.job_errors.append(_collect_error(report))

    # ---- the job loop --------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        _install_fixture_dedup(session)
        _install_directory_cache(session)
        # Not at configure time: the subtests plugin may configure after us.
        self.failed_subtests = _failed_subtests_counter(self.config)
        self._emit(
            {
                "ev": "ready",
                "pid": os.getpid(),
                "rootdir": str(self.config.rootpath),
                "pytest": pytest.__version__,
            }
        )
        try:
            total_collected, total_failed = self._serve(session)
        finally:
            self._flush()
        # pytest's exit code then sums up all jobs: 1 if any test failed,
        # 5 if no job collected anything, else 0.
        _unset_stop_flags(session)
        session.testscollected = total_collected
        session.testsfailed = total_failed
        _finish_quietly(self.config)
        return True

    def _serve(self, session) -> tuple[int, int]:
        """Runs jobs as control lines ask; returns (tests collected, tests failed)."""
        total_collected = 0
        total_failed = 0
        with open(self.control_fd, "rb", closefd=False) as control:
            for raw in control:
                if not raw.strip():
                    continue
                try:
                    message = json.loads(raw)
                    if not isinstance(message, dict):
                        raise ValueError("not a JSON object")
                except ValueError as e:
                    self._emit({"ev": "protocol_error", "message": f"bad control line: {e}"})
                    continue
                if message.get("quit"):
                    break
                if "job" not in message:
                    self._emit({"ev": "protocol_error", "message": "control line has no job"})
                    continue
                try:
                    collected, failed = self._run_job(session, message)
                except Exception as error:
                    # What serial pytest would end with INTERNALERROR (exit 3):
                    # say so, then let pytest's own handling report it.
                    self._emit(
                        {
                            "ev": "refused",
                            "job": message["job"],
                            "status": 3,
                            "message": _internal_error_lines(error),
                        }
                    )
                    raise
                total_collected += collected
                total_failed += failed
        return total_collected, total_failed

    def _read_nodeids(self, message: dict, errors: list) -> list:
        nodeids = message.get("tests")
        tests_file = message.get("tests_file")
        if nodeids is None and tests_file is not None:
            path = os.path.join(str(self.config.invocation_params.dir), str(tests_file))
            try:
                with open(path, encoding="utf-8") as f:
                    nodeids = json.load(f)
            except (OSError, ValueError) as e:
                errors.append({"location": str(tests_file), "message": f"cannot read tests file: {e}"})
                return []
        if not isinstance(nodeids, list):
            errors.append({"location": str(tests_file), "message": "expected a JSON array of node ids"})
            return []
        # Order-preserving de-duplication.
        return list(dict.fromkeys(n for n in nodeids if isinstance(n, str)))

    def _run_job(self, session, message: dict) -> tuple[int, int]:
        job = message["job"]
        errors: list = []
        budget = message.get("maxfail")
        self.job_maxfail = budget if isinstance(budget, int) and budget > 0 else None
        if isinstance(message.get("files"), list):
            return self._run_files_job(session, job, message["files"], errors)
        nodeids = self._read_nodeids(message, errors)

        # Collect whole files and keep the wanted ids (pytest_collection_
        # modifyitems above).  Asking perform_collect() for the ids themselves
        # would cost O(ids x items per module) name matching and raise
        # UsageError for the whole job on a single vanished id; a module is
        # fully built either way.
        root = str(self.config.rootpath)
        files: dict = {}
        exists: dict = {}
        for nodeid in nodeids:
            part = nodeid.split("::", 1)[0]
            if part not in exists:
                path = os.path.normpath(os.path.join(root, part))
                exists[part] = os.path.exists(path)
                if exists[part]:
                    files[path] = None

        items = self._collect(session, list(files), set(nodeids), errors)
        got = {item.nodeid for item in items}
        missing = [nodeid for nodeid in nodeids if nodeid not in got]
        interrupted = self._interrupted(errors)
        if interrupted:
            items = []
        self._emit(
            {
                "ev": "job_start",
                "job": job,
                "collected": len(items),
                "missing": missing,
                "errors": errors,
            }
        )
        return self._run_items(session, job, items, interrupted)

    def _run_files_job(self, session, job, files: list, errors: list) -> tuple[int, int]:
        """A job of whole files: everything they hold runs, and job_start lists it
        (node id, file, marks) so the parent learns the tests as it runs them."""
        root = str(self.config.rootpath)
        paths = []
        for rel in files:
            path = os.path.normpath(os.path.join(root, str(rel)))
            if os.path.exists(path):
                paths.append(path)
            else:
                errors.append({"location": str(rel), "message": "file not found"})
        items = self._collect(session, paths, None, errors)
        described = []
        rel_cache: dict = {}
        for item in items:
            rel = rel_cache.get(item.path)
            if rel is None:
                rel = os.path.relpath(item.path, root).replace(os.sep, "/")
                rel_cache[item.path] = rel
            described.append([item.nodeid, rel, sorted({m.name for m in item.iter_markers()})])
        # Listed (the run records them not run) but not run.
        interrupted = self._interrupted(errors)
        if interrupted:
            items = []
        self._emit(
            {
                "ev": "job_start",
                "job": job,
                "collected": len(items),
                "missing": [],
                "errors": errors,
                "items": described,
            }
        )
        return self._run_items(session, job, items, interrupted)

    def _interrupted(self, errors: list) -> str | None:
        """pytest runs nothing once collection failed (unless
        --continue-on-collection-errors): neither does the job, and job_done
        says why in pytest's words."""
        if not errors or getattr(self.config.option, "continue_on_collection_errors", False):
            return None
        count = len(errors)
        return f"Interrupted: {count} error{'s' if count != 1 else ''} during collection"

    def _run_items(self, session, job, items: list, stopped: str | None = None) -> tuple[int, int]:
        # Each job counts its own failures against the budget the parent gave
        # (what the run may still take), so -x/--maxfail stop inside the job
        # exactly where a serial pytest would.
        session.testsfailed = 0
        _unset_stop_flags(session)
        option = self.config.option
        own_maxfail = getattr(option, "maxfail", 0)
        if self.job_maxfail:
            option.maxfail = self.job_maxfail
        hook = self.config.hook
        last = len(items) - 1
        try:
            for i, item in enumerate(items):
                # nextitem=None after the last item tears everything down, session
                # fixtures included: each job behaves like its own session.
                nextitem = items[i + 1] if i < last else None
                hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                if session.shouldfail or session.shouldstop:
                    stopped = str(session.shouldfail or session.shouldstop)
                    break
        finally:
            option.maxfail = own_maxfail
        self._finish_teardown(session)
        failed = session.testsfailed
        _unset_stop_flags(session)
        self._emit({"ev": "job_done", "job": job, "stopped": stopped})
        return len(items), failed

    def _collect(self, session, args: list, wanted: set | None, errors: list) -> list:
        if not args:
            return []
        option = self.config.option
        maxfail = getattr(option, "maxfail", 0)
        # Collection errors count toward --maxfail/-x in pytest and would make
        # the next pytest_collectstart raise; here they are reported in
        # job_start and the job runs what did collect, so lift the limit
        # while collecting.
        option.maxfail = 0
        _unset_stop_flags(session)
        self.wanted = wanted
        self.job_errors = errors
        reported = len(errors)
        try:
            with _catching_collect_warnings(self.config):
                return self._perform_collect(session, args, errors, reported)
        finally:
            self.wanted = None
            self.job_errors = None
            option.maxfail = maxfail
            session.testsfailed = 0

    def _perform_collect(self, session, args: list, errors: list, reported: int) -> list:
        try:
            try:
                with _collection_warnings(self.config):
                    return list(session.perform_collect(args))
            except pytest.UsageError:
                pass
            # Some argument was refused (vanished file, a "[" in a path, an
            # ignored path...).  Retry file by file so one bad file does not
            # cost the others; the retry reports collection errors afresh.
            del errors[reported:]
            items: list = []
            for arg in args:
                try:
                    with _collection_warnings(self.config):
                        items.extend(session.perform_collect([arg]))
                except pytest.UsageError as e:
                    errors.append(
                        {
                            "location": os.path.relpath(arg, str(self.config.rootpath)),
                            "message": "; ".join(str(a) for a in e.args),
                        }
                    )
            return items
        except (session.Failed, session.Interrupted) as e:
            # A plugin stopped the session during collection.
            errors.append({"location": "", "message": f"collection stopped: {e}"})
            return []

    def _finish_teardown(self, session) -> None:
        # pytest >= 8 already tears everything down when a test sets
        # shouldfail/shouldstop; older versions leave the stack up.
        state = getattr(session, "_setupstate", None)
        if state is not None and getattr(state, "stack", None):
            try:
                state.teardown_exact(None)
            except Exception:
                pass

    # ---- per-test events ---------------------------------------------------

    def _reset_test(self) -> None:
        self.setup_rep = None
        self.call_rep = None
        self.teardown_rep = None
        self.last_rep = None
        self.duration = 0.0
        self.subtests = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logstart(self, nodeid) -> None:
        self._reset_test()
        counter = self.failed_subtests
        if counter:
            # pytest keeps this per nodeid for the whole session; a test that
            # runs again in a later job (a retry) must start from zero.
            counter.pop(nodeid, None)
        self._emit({"ev": "start", "nodeid": nodeid})

    def pytest_runtest_logreport(self, report) -> None:
        if self.subtest_classes and isinstance(report, self.subtest_classes):
            self._add_subtest(report)
            return
        when = report.when
        if when == "call":
            self.call_rep = report
        elif when == "setup":
            self.setup_rep = report
        elif when == "teardown":
            self.teardown_rep = report
        else:
            return
        self.last_rep = report
        self.duration += report.duration or 0.0

    def _add_subtest(self, report) -> None:
        counts = self.subtests
        if counts is None:
            counts = self.subtests = {
                "passed": 0,
                "failed": 0,
                "skipped": 0,
                "xfailed": 0,
                "failures": [],
            }
        if report.failed:
            counts["failed"] += 1
            if len(counts["failures"]) < _MAX_SUBTEST_FAILURES:
                counts["failures"].append(
                    {
                        "description": _subtest_description(report),
                        "message": _one_line_message(report),
                    }
                )
        elif report.skipped:
            # pytest.xfail() inside a subtest: pytest counts it as "xfailed".
            counts["xfailed" if hasattr(report, "wasxfail") else "skipped"] += 1
        else:
            counts["passed"] += 1

    def pytest_runtest_logfinish(self, nodeid) -> None:
        setup, call, teardown = self.setup_rep, self.call_rep, self.teardown_rep
        call_outcome = None
        teardown_error = False
        message = None
        crash = None
        detail_reps = []

        # The verdict of setup/call, as pytest's terminal would categorise it.
        if setup is not None and not setup.passed:
            primary = setup
            if setup.failed:
                outcome = "error"
            else:
                outcome = "xfailed" if hasattr(setup, "wasxfail") else "skipped"
        elif call is not None:
            primary = call
            if hasattr(call, "wasxfail"):
                # skipped+wasxfail: expected failure; passed+wasxfail: xpass.
                # A strict xpass arrives as a plain failure (no wasxfail).
                outcome = {"skipped": "xfailed", "passed": "xpassed"}.get(call.outcome, "failed")
            else:
                outcome = call.outcome
        else:
            # Setup passed and no call (--setup-only) or no reports at all.
            primary = setup
            outcome = "passed"

        subtests = self.subtests
        if outcome == "passed" and subtests is not None and subtests["failed"]:
            # pytest 9 fails a passing test that contains failed subtests of
            # the `subtests` fixture (its terminal reporter may or may not have
            # rewritten the call report yet, depending on hook order).
            counter = self.failed_subtests
            n = subtests["failed"] if counter is None else counter.get(nodeid, 0)
            if n:
                outcome = "failed"
                message = f"contains {n} failed subtest{'s' if n > 1 else ''}"

        if primary is not None and outcome in ("failed", "error", "xfailed"):
            detail_reps.append(primary)
        if primary is not None and message is None and outcome != "passed":
            if outcome in ("xfailed", "xpassed") and getattr(primary, "wasxfail", ""):
                message = primary.wasxfail
            else:
                message = _one_line_message(primary)
                crash = _crash_message(primary)

        if teardown is not None and teardown.failed:
            if outcome == "passed":
                # pytest counts this as "1 passed, 1 error".
                outcome = "error"
                call_outcome = "passed"
                message = _one_line_message(teardown)
            else:
                teardown_error = True
            detail_reps.append(teardown)

        details = None
        if detail_reps:
            texts = []
            for rep in detail_reps:
                text = _report_text(rep)
                if text:
                    if texts:
                        texts.append(f"--- {rep.when} ---")
                    texts.append(text)
            details = _tail_chars("\n".join(texts), _MAX_DETAILS) if texts else None

        # Captured output accumulates over the phases; the last report has it all.
        last = self.last_rep
        stdout = stderr = None
        if last is not None:
            out = last.capstdout
            err = last.capstderr
            stdout = _tail_bytes(out) if out else None
            stderr = _tail_bytes(err) if err else None

        # The captured sections pytest prints under the test in FAILURES/ERRORS (or
        # PASSES with -rP): the last report holds every phase's sections; a setup
        # error shows only what setup captured, as pytest's ERRORS section does.
        sections = head = skip_location = None
        shown = (
            outcome in ("failed", "error")
            or (outcome == "passed" and self.passes_output)
            or (outcome == "xpassed" and self.xpasses_output)
        )
        if shown and last is not None:
            source = setup if outcome == "error" and call is None and setup is not None else last
            sections = _shown_sections(source, self.show_capture) or None
            head = getattr(primary or last, "head_line", None)
        elif outcome == "skipped" and primary is not None:
            skip_location = _skip_location(primary, self.startpath)

        event = {"ev": "result", "nodeid": nodeid, "outcome": outcome, "duration": self.duration}
        # Absent means null (or false): most results are a passed test with nothing
        # to add, and a short line is cheaper to write and to read.
        for key, value in (
            ("message", message),
            ("details", details),
            ("stdout", stdout),
            ("stderr", stderr),
            ("teardown_error", teardown_error),
            ("call_outcome", call_outcome),
            ("subtests", subtests),
            ("sections", sections),
            ("head", head),
            ("skip_location", skip_location),
            ("crash", crash),
        ):
            if value:
                event[key] = value
        if self._collect_warnings:
            event["warnings"] = self._collect_warnings
            self._collect_warnings = 0
        self._hold_result(event)
        self._reset_test()
