"""Tests for arun_plugin: real pytest subprocesses on generated suites.

Every run goes through `python -m pytest -p arun_plugin` with PYTHONPATH
pointing at the plugin directory, exactly as the arun binary starts it; serve
mode is driven over the child's stdin/stdout pipes.  Plugin autoloading is
disabled in the children (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1) because installed
third-party plugins can cost seconds per interpreter start; the comparison
runs of plain pytest use the same environment.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).resolve().parent.parent
TIMEOUT = 60


def child_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.pop("ARUN_SERVE", None)
    env["PYTHONPATH"] = str(PLUGIN_DIR)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def write_suite(root: Path, files: dict) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def run_pytest(root: Path, *args: str, plugin: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest"]
    if plugin:
        cmd += ["-p", "arun_plugin"]
    return subprocess.run(
        cmd + list(args),
        cwd=root,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def run_collect(root: Path, *args: str, exprs: list | None = None):
    out = root.parent / f"{root.name}-collect.jsonl"
    extra = [f"--arun-collect={out}"]
    if exprs is not None:
        exprs_path = root.parent / f"{root.name}-exprs.json"
        exprs_path.write_text(json.dumps(exprs))
        extra.append(f"--arun-exprs={exprs_path}")
    proc = run_pytest(root, *extra, *args)
    events = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return proc, events


def plain_collected_ids(root: Path, *args: str) -> list:
    proc = run_pytest(root, "--collect-only", "-q", "-p", "no:cacheprovider", *args, plugin=False)
    return [line for line in proc.stdout.splitlines() if "::" in line]


RESULT_OPTIONAL = ("message", "details", "stdout", "stderr", "teardown_error", "call_outcome", "subtests")


class Serve:
    """A serve-mode child driven like the arun worker drives it."""

    def __init__(self, root: Path, *args: str, use_env: bool = True) -> None:
        self.root = root
        self.stderr_path = root.parent / f"{root.name}-serve-stderr.txt"
        env = child_env(ARUN_SERVE="1") if use_env else child_env()
        flags = [] if use_env else ["--arun-serve"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "arun_plugin", *flags, *args],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(self.stderr_path, "wb"),
        )
        self.events: queue.Queue = queue.Queue()
        self.raw_lines: list = []
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self.next()
        assert self.ready["ev"] == "ready", self.ready
        self.jobs = 0

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.raw_lines.append(line)
            event = json.loads(line)
            if event["ev"] == "result":
                # The protocol leaves these out when null or false.
                for key in RESULT_OPTIONAL:
                    event.setdefault(key, False if key == "teardown_error" else None)
            self.events.put(event)
        self.events.put(None)

    def next(self):
        try:
            return self.events.get(timeout=TIMEOUT)
        except queue.Empty:
            self.proc.kill()
            raise AssertionError("serve child went quiet; stderr:\n" + self.stderr())

    def send(self, obj: dict) -> None:
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def job(self, nodeids: list, **extra) -> list:
        """Run one job, return its events from job_start to job_done."""
        job_id = f"j{self.jobs}"
        tests_file = self.root.parent / f"{self.root.name}-{job_id}.json"
        tests_file.write_text(json.dumps(nodeids))
        self.jobs += 1
        self.send({"job": job_id, "tests_file": str(tests_file), **extra})
        events = []
        while True:
            event = self.next()
            assert event is not None, "stream ended inside a job; stderr:\n" + self.stderr()
            events.append(event)
            if event["ev"] == "job_done":
                assert event["job"] == job_id
                return events

    def quit(self) -> int:
        self.send({"quit": True})
        self.proc.stdin.close()
        rest = []
        while (event := self.next()) is not None:
            rest.append(event)
        assert rest == [], rest
        return self.proc.wait(timeout=TIMEOUT)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def results(events: list) -> dict:
    return {e["nodeid"]: e for e in events if e["ev"] == "result"}


def check_event_order(events: list) -> None:
    """Every result follows its own start, one start per test."""
    current = None
    for e in events:
        if e["ev"] == "start":
            assert current is None, f"start {e['nodeid']} while {current} unfinished"
            current = e["nodeid"]
        elif e["ev"] == "result":
            assert e["nodeid"] == current
            current = None


# ---------------------------------------------------------------------------
# Totals, the way the arun parent is meant to reproduce pytest's.
# ---------------------------------------------------------------------------


def terminal_totals(result_events, verbose: bool = False) -> dict:
    totals: dict = {}

    def add(key, n=1):
        if n:
            totals[key] = totals.get(key, 0) + n

    for r in result_events:
        if r["outcome"] == "error" and r["call_outcome"] == "passed":
            add("passed")
        add(r["outcome"])
        if r["teardown_error"]:
            add("error")
        sub = r["subtests"]
        if sub:
            add("failed", sub["failed"])
            if verbose:  # pytest hides these at the default verbosity
                add("skipped", sub["skipped"])
                add("xfailed", sub["xfailed"])
                add("subtests passed", sub["passed"])
    return totals


def junit_totals(result_events) -> dict:
    t = terminal_totals(result_events)
    skipped = t.get("skipped", 0) + t.get("xfailed", 0)
    for r in result_events:
        if r["subtests"]:
            skipped += r["subtests"]["skipped"] + r["subtests"]["xfailed"]
    return {"failures": t.get("failed", 0), "errors": t.get("error", 0), "skipped": skipped}


def parse_summary(output: str) -> dict:
    line = [l for l in output.strip().splitlines() if re.search(r" in [\d.]+s", l)][-1]
    line = re.sub(r" in [\d.]+s.*", "", line.strip("= "))
    totals = {}
    for part in line.split(", "):
        n, _, key = part.partition(" ")
        key = {"errors": "error", "warnings": "warning"}.get(key, key)
        if key != "warning":
            totals[key] = int(n)
    return totals


# ---------------------------------------------------------------------------
# Collect mode
# ---------------------------------------------------------------------------

COLLECT_SUITE = {
    "pytest.ini": """\
        [pytest]
        python_files = test_*.py check_*.py
        markers =
            slow
            fast
            db
            level
        """,
    "test_top.py": """\
        import pytest
        pytestmark = pytest.mark.db

        @pytest.mark.slow
        def test_slow():
            pass

        @pytest.mark.parametrize("x", [1, pytest.param(2, marks=pytest.mark.fast)])
        def test_param(x):
            pass

        @pytest.mark.fast
        class TestK:
            def test_m(self):
                pass

            def test_deselected_by_k(self):
                pass
        """,
    "sub/deeper/check_nested.py": """\
        import pytest

        def test_plain():
            pass

        @pytest.mark.slow
        @pytest.mark.fast
        def test_both():
            pass

        @pytest.mark.level(n=2)
        def test_level():
            pass
        """,
    "sub/helper.py": "def test_not_collected():\n    pass\n",
}

EXPRS = [
    "slow",
    "not slow",
    "slow and fast",
    "(slow or fast) and not db",
    "db and not (slow or fast)",
    "level(n=2)",
]


def test_collect_items_marks_and_expressions(tmp_path):
    root = write_suite(tmp_path / "suite", COLLECT_SUITE)
    proc, events = run_collect(root, "-k", "not deselected_by_k", exprs=EXPRS)
    assert proc.returncode == 0, proc.stderr
    items = [e for e in events if e["ev"] == "item"]
    assert events[-1] == {"ev": "done", "count": len(items), "rootdir": str(root), "errors": 0}

    # Same ids, same order as pytest's own --collect-only with the same -k.
    assert [i["nodeid"] for i in items] == plain_collected_ids(root, "-k", "not deselected_by_k")

    by_id = {i["nodeid"]: i for i in items}
    assert set(by_id) == {
        "test_top.py::test_slow",
        "test_top.py::test_param[1]",
        "test_top.py::test_param[2]",
        "test_top.py::TestK::test_m",
        "sub/deeper/check_nested.py::test_plain",
        "sub/deeper/check_nested.py::test_both",
        "sub/deeper/check_nested.py::test_level",
    }
    nested = by_id["sub/deeper/check_nested.py::test_both"]
    assert nested["file"] == "sub/deeper/check_nested.py"
    assert nested["path"] == str(root / "sub" / "deeper" / "check_nested.py")
    assert nested["marks"] == ["fast", "slow"]
    assert by_id["test_top.py::test_param[2]"]["marks"] == ["db", "fast", "parametrize"]
    assert by_id["test_top.py::TestK::test_m"]["marks"] == ["db", "fast"]

    expected = {
        "test_top.py::test_slow": [0],
        "test_top.py::test_param[1]": [1, 4],
        "test_top.py::test_param[2]": [1],
        "test_top.py::TestK::test_m": [1],
        "sub/deeper/check_nested.py::test_plain": [1],
        "sub/deeper/check_nested.py::test_both": [0, 2, 3],
        "sub/deeper/check_nested.py::test_level": [1, 5],
    }
    assert {k: v["matches"] for k, v in by_id.items()} == expected

    # And the most tangled expression agrees with pytest's own -m.
    selected = plain_collected_ids(root, "-k", "not deselected_by_k", "-m", EXPRS[3])
    assert selected == [i["nodeid"] for i in items if 3 in i["matches"]]


def test_collect_bad_expression_exits_4_before_collecting(tmp_path):
    root = write_suite(
        tmp_path / "suite",
        {"pytest.ini": "[pytest]\n", "test_a.py": "open('imported.flag', 'w').close()\ndef test_a(): pass\n"},
    )
    proc, events = run_collect(root, exprs=["slow", "slow and (fast", "not"])
    assert proc.returncode == 4
    assert [e["ev"] for e in events] == ["bad_expr", "bad_expr"]
    assert events[0]["index"] == 1 and events[0]["expr"] == "slow and (fast"
    assert events[1]["index"] == 2
    assert all(e["message"] for e in events)
    assert not (root / "imported.flag").exists(), "suite was collected despite a bad expression"
    assert proc.stdout == ""


def test_collect_errors_are_reported_and_exit_codes_match_pytest(tmp_path):
    root = write_suite(
        tmp_path / "suite",
        {
            "pytest.ini": "[pytest]\n",
            "test_ok.py": "def test_ok(): pass\n",
            "test_import.py": "import no_such_module_arun\ndef test_x(): pass\n",
            "test_syntax.py": "def test_y(:\n    pass\n",
        },
    )
    proc, events = run_collect(root, "-p", "no:cacheprovider")
    plain = run_pytest(root, "--collect-only", "-q", "-p", "no:cacheprovider", plugin=False)
    assert proc.returncode == plain.returncode == 2
    errors = {e["location"]: e["message"] for e in events if e["ev"] == "collect_error"}
    assert set(errors) == {"test_import.py", "test_syntax.py"}
    assert "ModuleNotFoundError: No module named 'no_such_module_arun'" in errors["test_import.py"]
    assert "import no_such_module_arun" in errors["test_import.py"]
    assert "SyntaxError" in errors["test_syntax.py"]
    assert [e["nodeid"] for e in events if e["ev"] == "item"] == ["test_ok.py::test_ok"]
    assert events[-1]["ev"] == "done" and events[-1]["errors"] == 2 and events[-1]["count"] == 1

    # --continue-on-collection-errors: whatever pytest --collect-only says.
    proc, events = run_collect(root, "-p", "no:cacheprovider", "--continue-on-collection-errors")
    plain = run_pytest(
        root, "--collect-only", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors", plugin=False
    )
    assert proc.returncode == plain.returncode
    assert events[-1]["count"] == 1


def test_collect_nothing_exits_5(tmp_path):
    root = write_suite(tmp_path / "suite", {"pytest.ini": "[pytest]\n", "test_none.py": "x = 1\n"})
    proc, events = run_collect(root, exprs=[])
    assert proc.returncode == 5
    assert events == [{"ev": "done", "count": 0, "rootdir": str(root), "errors": 0}]


# ---------------------------------------------------------------------------
# Serve mode
# ---------------------------------------------------------------------------

OUTCOMES = """\
    import pytest

    @pytest.fixture
    def broken_setup():
        raise RuntimeError("setup boom")

    @pytest.fixture
    def broken_teardown():
        yield
        raise RuntimeError("teardown boom")

    def test_pass():
        print("out-pass")

    def test_fail():
        assert 1 == 2, "one is not two"

    def test_setup_error(broken_setup):
        pass

    def test_teardown_error(broken_teardown):
        pass

    def test_fail_and_teardown_error(broken_teardown):
        assert False

    def test_skip():
        pytest.skip("not today")

    @pytest.mark.skip(reason="marked skip")
    def test_skip_mark():
        pass

    @pytest.mark.xfail(reason="known bug")
    def test_xfail():
        assert 0

    def test_xfail_imperative():
        pytest.xfail("imperative")

    @pytest.mark.xfail(reason="fixed?")
    def test_xpass():
        pass

    @pytest.mark.xfail(strict=True, reason="must fail")
    def test_xpass_strict():
        pass

    @pytest.mark.parametrize("n", [1, 2, 3])
    def test_param(n):
        assert n != 2

    import unittest

    class TestUnit(unittest.TestCase):
        def test_subtest(self):
            for i in range(3):
                with self.subTest(i=i):
                    self.assertNotEqual(i, 1)
    """

# pytest >= 9 has built-in subtests; on older pytest these tests are left out.
HAS_SUBTESTS = importlib.util.find_spec("_pytest.subtests") is not None
SUBTESTS = """\

    def test_subtests(subtests):
        for i in range(5):
            with subtests.test(msg="odd", i=i):
                assert i % 2 == 0

    def test_subtests_ok(subtests):
        for i in range(3):
            with subtests.test(i=i):
                pass
        with subtests.test(i=99):
            pytest.skip("sub skip")
        with subtests.test(i=100):
            pytest.xfail("sub xfail")
    """

EXPECTED_OUTCOMES = {
    "test_pass": "passed",
    "test_fail": "failed",
    "test_setup_error": "error",
    "test_teardown_error": "error",
    "test_fail_and_teardown_error": "failed",
    "test_skip": "skipped",
    "test_skip_mark": "skipped",
    "test_xfail": "xfailed",
    "test_xfail_imperative": "xfailed",
    "test_xpass": "xpassed",
    "test_xpass_strict": "failed",
    "test_param[1]": "passed",
    "test_param[2]": "failed",
    "test_param[3]": "passed",
}
if HAS_SUBTESTS:
    EXPECTED_OUTCOMES.update({"test_subtests": "failed", "test_subtests_ok": "passed"})
# pytest 9 shows a unittest test whose subTest failed as passed (plus one
# failed subtest); older pytest fails the test itself.
EXPECTED_OUTCOMES["TestUnit::test_subtest"] = "passed" if HAS_SUBTESTS else "failed"


def test_serve_outcomes_match_plain_pytest_totals(tmp_path):
    source = OUTCOMES + (SUBTESTS if HAS_SUBTESTS else "")
    root = write_suite(tmp_path / "suite", {"pytest.ini": "[pytest]\n", "test_outcomes.py": source})
    ids = [f"test_outcomes.py::{name}" for name in EXPECTED_OUTCOMES]

    serve = Serve(root, "-p", "no:cacheprovider", "test_outcomes.py")
    events = serve.job(ids[:6]) + serve.job(ids[6:11]) + serve.job(ids[11:])
    assert serve.quit() == 1  # some tests failed
    check_event_order(events)
    res = results(events)
    assert {k.split("::", 1)[1]: v["outcome"] for k, v in res.items()} == EXPECTED_OUTCOMES

    r = res["test_outcomes.py::test_pass"]
    assert r["stdout"] == "out-pass\n" and r["message"] is None and r["details"] is None
    assert r["duration"] > 0
    r = res["test_outcomes.py::test_fail"]
    assert "one is not two" in r["message"] and "\n" not in r["message"]
    assert "assert 1 == 2" in r["details"]
    r = res["test_outcomes.py::test_setup_error"]
    assert r["message"] == "RuntimeError: setup boom" and not r["teardown_error"]
    r = res["test_outcomes.py::test_teardown_error"]
    assert r["call_outcome"] == "passed" and r["message"] == "RuntimeError: teardown boom"
    r = res["test_outcomes.py::test_fail_and_teardown_error"]
    assert r["teardown_error"] is True and r["call_outcome"] is None
    assert "teardown boom" in r["details"] and "assert False" in r["details"]
    assert res["test_outcomes.py::test_skip"]["message"] == "not today"
    assert res["test_outcomes.py::test_skip_mark"]["message"] == "marked skip"
    assert res["test_outcomes.py::test_xfail"]["message"] == "known bug"
    assert "XPASS(strict)" in res["test_outcomes.py::test_xpass_strict"]["message"]

    # The same suite under plain pytest: terminal summary (default and -q
    # verbosity) and junitxml counts equal the totals rebuilt from events.
    plain = run_pytest(root, "-p", "no:cacheprovider", "--junitxml=junit.xml", plugin=False)
    assert parse_summary(plain.stdout) == terminal_totals(res.values())
    plain_q = run_pytest(root, "-q", "-p", "no:cacheprovider", plugin=False)
    assert parse_summary(plain_q.stdout) == terminal_totals(res.values(), verbose=True)
    suite = ET.parse(root / "junit.xml").getroot().find("testsuite")
    assert {k: int(suite.get(k)) for k in ("failures", "errors", "skipped")} == junit_totals(res.values())
    # The serve process prints no summary of its own: its terminal reporter is dropped
    # before session end (see _drop_terminal_summary), so only the events count.
    assert not re.search(r"\d+ passed", serve.stderr().splitlines()[-1] if serve.stderr().strip() else "")

    if HAS_SUBTESTS:
        sub = res["test_outcomes.py::test_subtests"]
        assert sub["message"] == "contains 2 failed subtests"
        assert {k: sub["subtests"][k] for k in ("passed", "failed", "skipped", "xfailed")} == {
            "passed": 3, "failed": 2, "skipped": 0, "xfailed": 0
        }
        assert [f["description"] for f in sub["subtests"]["failures"]] == ["[odd] (i=1)", "[odd] (i=3)"]
        assert "assert" in sub["subtests"]["failures"][0]["message"]
        ok = res["test_outcomes.py::test_subtests_ok"]["subtests"]
        assert (ok["passed"], ok["failed"], ok["skipped"], ok["xfailed"]) == (3, 0, 1, 1)
        unit = res["test_outcomes.py::TestUnit::test_subtest"]["subtests"]
        assert (unit["passed"], unit["failed"]) == (2, 1)
        assert unit["failures"][0]["description"] == "(i=1)"


JOBS_SUITE = {
    "pytest.ini": "[pytest]\n",
    "conftest.py": """\
        import os, pytest

        LOG = os.path.join(os.path.dirname(__file__), "fixture.log")

        def log(line):
            with open(LOG, "a") as f:
                f.write(line + "\\n")

        @pytest.fixture(scope="session", autouse=True)
        def session_fix():
            log("session-setup")
            yield
            log("session-teardown")

        @pytest.fixture
        def base():
            return 1
        """,
    "test_jobs.py": """\
        import os, pytest
        from conftest import log

        @pytest.fixture(scope="module")
        def module_fix():
            log("module-setup")
            yield
            log("module-teardown")

        def setup_module(module):
            log("xunit-setup")

        def test_a(module_fix):
            assert "ARUN_SERVE" not in os.environ

        def test_b(module_fix):
            pass

        class TestOverride:
            # Overrides the conftest fixture and uses it: must see 1 + 1 in
            # every job, not one extra layer per re-collection.
            @pytest.fixture
            def base(self, base):
                return base + 1

            def test_c(self, base, module_fix):
                assert base == 2

        @pytest.mark.parametrize("n", range(3))
        def test_p(n, module_fix):
            pass
        """,
    "test_broken.py": "import no_such_module_arun\ndef test_z(): pass\n",
}

# Fails its subtest on the first run only: a retry in a later job must pass.
FLAKY_SUBTESTS = """\
    import os

    def test_flaky(subtests):
        flag = os.path.join(os.path.dirname(__file__), "flaky.flag")
        first = not os.path.exists(flag)
        open(flag, "w").close()
        with subtests.test(msg="flaky"):
            assert not first
    """


def test_serve_three_jobs_fixtures_missing_and_collect_errors(tmp_path):
    root = write_suite(tmp_path / "suite", {**JOBS_SUITE, "test_flaky.py": FLAKY_SUBTESTS})
    log = root / "fixture.log"
    serve = Serve(root, "-p", "no:cacheprovider", ".")
    assert serve.ready["rootdir"] == str(root)
    assert serve.ready["pid"] == serve.proc.pid

    expected_log = []
    job_ids = [
        ["test_jobs.py::test_a", "test_jobs.py::TestOverride::test_c"],
        ["test_jobs.py::test_b", "test_jobs.py::test_p[1]", "test_jobs.py::TestOverride::test_c"],
        ["test_jobs.py::test_a", "test_jobs.py::test_nope", "nodir/test_gone.py::test_x",
         "test_broken.py::test_z", "test_jobs.py::test_p[2]"],
    ]
    for ids in job_ids:
        events = serve.job(ids)
        start = events[0]
        assert start["ev"] == "job_start"
        res = results(events)
        assert all(r["outcome"] == "passed" for r in res.values()), res
        assert start["collected"] == len(res)
        if res:
            # Module and session fixtures were torn down before job_done.
            expected_log += ["session-setup", "xunit-setup", "module-setup", "module-teardown", "session-teardown"]
        assert log.read_text().split() == expected_log

    assert start["missing"] == ["test_jobs.py::test_nope", "nodir/test_gone.py::test_x", "test_broken.py::test_z"]
    assert [e["location"] for e in start["errors"]] == ["test_broken.py"]
    assert "no_such_module_arun" in start["errors"][0]["message"]
    # As pytest: after a collection error nothing of the job runs.
    assert res == {} and start["collected"] == 0
    assert events[-1]["stopped"] == "Interrupted: 1 error during collection"

    if HAS_SUBTESTS:
        first = results(serve.job(["test_flaky.py::test_flaky"]))["test_flaky.py::test_flaky"]
        again = results(serve.job(["test_flaky.py::test_flaky"]))["test_flaky.py::test_flaky"]
        assert (first["outcome"], first["subtests"]["failed"]) == ("failed", 1)
        assert (again["outcome"], again["subtests"]["failed"]) == ("passed", 0)
        assert serve.quit() == 1
    else:
        assert serve.quit() == 0


def test_serve_lists_a_directory_once_but_sees_files_named_later(tmp_path):
    # A file outside python_files is collected when named; the listing of its
    # directory kept from an earlier job did not include it.
    root = write_suite(
        tmp_path / "suite",
        {
            "pytest.ini": "[pytest]\n",
            "d/test_a.py": "def test_a():\n    pass\n",
            "d/check_b.py": "def test_b():\n    pass\n",
        },
    )
    serve = Serve(root, "-p", "no:cacheprovider", ".")
    first = results(serve.job(["d/test_a.py::test_a"]))
    again = results(serve.job(["d/test_a.py::test_a"]))
    named = serve.job(["d/check_b.py::test_b"])
    assert first["d/test_a.py::test_a"]["outcome"] == "passed"
    assert again["d/test_a.py::test_a"]["outcome"] == "passed"
    assert named[0]["missing"] == [] and named[0]["errors"] == []
    assert results(named)["d/check_b.py::test_b"]["outcome"] == "passed"
    assert serve.quit() == 0


def test_serve_segfault_leaves_start_without_result(tmp_path):
    root = write_suite(
        tmp_path / "suite",
        {
            "pytest.ini": "[pytest]\n",
            "test_crash.py": """\
                import os, signal

                def test_before():
                    pass

                def test_crash():
                    os.kill(os.getpid(), signal.SIGSEGV)

                def test_after():
                    pass
                """,
        },
    )
    serve = Serve(root, "-p", "no:cacheprovider", ".")
    serve.send({"job": 1, "tests": ["test_crash.py::test_before", "test_crash.py::test_crash",
                                    "test_crash.py::test_after"]})
    events = []
    while (event := serve.next()) is not None:
        events.append(event)
    assert [e["ev"] for e in events] == ["job_start", "start", "result", "start"]
    assert events[2]["outcome"] == "passed"
    assert events[-1]["nodeid"] == "test_crash.py::test_crash"
    assert serve.proc.wait(timeout=TIMEOUT) == -signal.SIGSEGV


def test_serve_flags_output_bounds_and_clean_stdout(tmp_path):
    root = write_suite(
        tmp_path / "suite",
        {
            "pytest.ini": "[pytest]\n",
            "test_noise.py": """\
                import os, sys

                def test_loud():
                    sys.stdout.write("x" * 1_000_000 + "THE-END")
                    sys.stderr.write("e" * 200_000)

                def test_huge_failure():
                    assert "a" * 100_000 == "b"

                def test_fails_early():
                    assert 0

                def test_never_runs_under_x():
                    pass

                def test_writes_raw_fds():
                    os.write(1, b"raw fd1 junk\\n")
                    print("print junk")
                    assert sys.stdin.read() == ""
                """,
        },
    )
    # Captured run: output bounded.
    serve = Serve(root, "-q", "-p", "no:cacheprovider", ".")
    res = results(serve.job(["test_noise.py::test_loud", "test_noise.py::test_huge_failure"]))
    loud = res["test_noise.py::test_loud"]
    assert len(loud["stdout"].encode()) <= 64 * 1024 and loud["stdout"].endswith("THE-END")
    assert "truncated" in loud["stdout"]
    assert len(loud["stderr"].encode()) <= 64 * 1024
    huge = res["test_noise.py::test_huge_failure"]
    assert huge["outcome"] == "failed"
    assert len(huge["details"]) <= 20_000 + 100 and "truncated" in huge["details"]
    assert serve.quit() == 1
    assert all(line.startswith(b"{") for line in serve.raw_lines)

    # -x -s via the --arun-serve flag (no env var): -x stops a job, not the
    # worker; uncaptured writes to fd 1 land on stderr, not in the protocol.
    serve = Serve(root, "-x", "-s", "-q", "-p", "no:cacheprovider", ".", use_env=False)
    events = serve.job(["test_noise.py::test_fails_early", "test_noise.py::test_never_runs_under_x"])
    assert list(results(events)) == ["test_noise.py::test_fails_early"]
    assert events[-1]["stopped"]
    events = serve.job(["test_noise.py::test_writes_raw_fds", "test_noise.py::test_never_runs_under_x"])
    assert [r["outcome"] for r in results(events).values()] == ["passed", "passed"]
    assert events[-1]["stopped"] is None
    assert serve.quit() == 1
    assert all(line.startswith(b"{") for line in serve.raw_lines)
    assert "raw fd1 junk" in serve.stderr() and "print junk" in serve.stderr()


def test_serve_captured_sections_as_pytest_shows_them(tmp_path):
    root = write_suite(
        tmp_path / "suite",
        {
            "pytest.ini": "[pytest]\n",
            "test_sections.py": """\
                import logging, sys
                import pytest

                @pytest.fixture
                def noisy():
                    print("setup out")
                    yield
                    print("teardown out")

                class TestK:
                    def test_fail(self, noisy):
                        print("call out")
                        sys.stderr.write("call err\\n")
                        logging.getLogger("x").warning("warned")
                        assert 1 == 2, "first line\\nsecond line"

                def test_pass(noisy):
                    print("quiet pass")

                def test_huge():
                    print("y" * 300_000)
                    assert False

                @pytest.mark.skip(reason="marked")
                def test_skip_mark():
                    pass

                def test_skip_inline():
                    pytest.skip("inline")
                """,
        },
    )
    ids = [f"test_sections.py::{name}" for name in
           ("TestK::test_fail", "test_pass", "test_huge", "test_skip_mark", "test_skip_inline")]
    serve = Serve(root, "-p", "no:cacheprovider", ".")
    res = results(serve.job(ids))
    serve.quit()
    fail = res[ids[0]]
    assert [title for title, _ in fail["sections"]] == [
        "Captured stdout setup", "Captured stdout call", "Captured stderr call", "Captured log call",
        "Captured stdout teardown",
    ]
    assert fail["sections"][1][1] == "call out\n" and "warned" in fail["sections"][3][1]
    assert fail["head"] == "TestK.test_fail"
    assert fail["crash"] == "AssertionError: first line\n  second line\nassert 1 == 2"
    assert fail["details"].startswith("\nself = ") and "    def test_fail(self, noisy):" in fail["details"]
    assert "sections" not in res[ids[1]], "passed tests keep theirs only with -rP"
    huge = res[ids[2]]["sections"][0][1]
    assert len(huge.encode()) <= 32 * 1024 and huge.startswith("[... ") and huge.endswith("y\n")
    assert res[ids[3]]["skip_location"] == "test_sections.py:24"
    assert res[ids[4]]["skip_location"] == "test_sections.py:29"

    # -rP keeps passed tests' output; --show-capture=log keeps only log sections.
    serve = Serve(root, "-p", "no:cacheprovider", "-rP", "--show-capture=log", ".")
    res = results(serve.job(ids[:2]))
    serve.quit()
    assert [title for title, _ in res[ids[0]]["sections"]] == ["Captured log call"]
    assert "sections" not in res[ids[1]], "a passed test without log records shows nothing"
    serve = Serve(root, "-p", "no:cacheprovider", "-rA", ".")
    res = results(serve.job(ids[1:2]))
    serve.quit()
    assert [title for title, _ in res[ids[1]]["sections"]] == [
        "Captured stdout setup", "Captured stdout call", "Captured stdout teardown"]


def test_serve_last_failed(tmp_path):
    root = write_suite(
        tmp_path / "suite",
        {
            "pytest.ini": "[pytest]\n",
            "test_lf.py": "def test_ok(): pass\ndef test_bad(): assert 0\n",
            "test_other.py": "def test_fine(): pass\n",
        },
    )
    run_pytest(root, plugin=False)  # populates the cache's lastfailed
    serve = Serve(root, "--lf", ".")
    events = serve.job(["test_lf.py::test_ok", "test_lf.py::test_bad", "test_other.py::test_fine"])
    assert {k: v["outcome"] for k, v in results(events).items()} == {"test_lf.py::test_bad": "failed"}
    assert events[0]["missing"] == ["test_lf.py::test_ok", "test_other.py::test_fine"]
    events = serve.job(["test_lf.py::test_bad"])
    assert [r["outcome"] for r in results(events).values()] == ["failed"]
    assert serve.quit() == 1


def test_serve_job_stops_at_its_failure_budget_like_pytest_maxfail(tmp_path):
    # The parent passes the failures the run may still take; the job stops where a
    # serial `pytest --maxfail N` stops, and the next job without a budget runs all.
    body = "".join(f"def test_{i:02d}():\n    assert {i % 3 != 0}\n\n" for i in range(12))
    root = write_suite(tmp_path / "suite", {"pytest.ini": "[pytest]\n", "test_budget.py": body})
    ids = [f"test_budget.py::test_{i:02d}" for i in range(12)]
    serve = Serve(root, "-p", "no:cacheprovider", ".")
    for budget in (1, 2, 3):
        plain = run_pytest(root, "-p", "no:cacheprovider", f"--maxfail={budget}", plugin=False)
        events = serve.job(ids, maxfail=budget)
        res = results(events)
        done = events[-1]
        assert done["stopped"] and str(budget) in done["stopped"]
        assert parse_summary(plain.stdout) == terminal_totals(res.values()), budget
    events = serve.job(ids)
    assert events[-1]["stopped"] is None and len(results(events)) == 12
    serve.quit()


# Suites pytest refuses, or not, before running a test (issue 16): with
# filterwarnings = error, a warning raised while collecting is an error.
STRICT_INI = {"pytest.ini": "[pytest]\nfilterwarnings =\n    error\n", "test_ok.py": "def test_ok():\n    pass\n"}


def _last_internal_error(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("INTERNALERROR>")]
    return lines[-1] if lines else ""


def test_serve_refuses_a_warning_in_a_collection_hook_as_pytest_does(tmp_path):
    conftest = (
        "import warnings\n"
        "def pytest_collection_modifyitems(items):\n"
        "    warnings.warn(UserWarning('modifyitems says no'))\n"
    )
    root = write_suite(tmp_path / "suite", {**STRICT_INI, "conftest.py": conftest})
    serial = run_pytest(root, "-p", "no:cacheprovider", plugin=False)
    assert serial.returncode == 3
    expected = _last_internal_error(serial.stdout + serial.stderr)
    assert expected == "INTERNALERROR> UserWarning: modifyitems says no"

    serve = Serve(root, "-p", "no:cacheprovider", ".")
    serve.send({"job": 1, "tests_file": None, "tests": ["test_ok.py::test_ok"]})
    refused = serve.next()
    assert refused["ev"] == "refused" and refused["job"] == 1 and refused["status"] == 3
    assert refused["message"].splitlines()[-1] == expected
    assert serve.next() is None  # nothing ran; pytest ended
    assert serve.proc.wait(TIMEOUT) == 3
    assert expected in serve.stderr()


def test_serve_turns_import_warnings_into_collection_errors_as_pytest_does(tmp_path):
    files = {**STRICT_INI, "test_warn.py": "import warnings\nwarnings.warn(UserWarning('import says no'))\n"
             "def test_w():\n    pass\n"}
    root = write_suite(tmp_path / "suite", files)
    serial = run_pytest(root, "-p", "no:cacheprovider", plugin=False)
    assert serial.returncode == 2
    assert "ERROR collecting test_warn.py" in serial.stdout and "UserWarning: import says no" in serial.stdout

    serve = Serve(root, "-p", "no:cacheprovider", ".")
    events = serve.job(["test_warn.py::test_w", "test_ok.py::test_ok"])
    start = events[0]
    assert [e["location"] for e in start["errors"]] == ["test_warn.py"]
    assert "UserWarning: import says no" in start["errors"][0]["message"]
    assert "test_warn.py::test_w" in start["missing"]
    serve.quit()


def test_serve_runs_a_suite_whose_configure_hook_warns_as_pytest_does(tmp_path):
    # pytest applies the ini filters to collection, not to pytest_configure.
    conftest = "import warnings\ndef pytest_configure(config):\n    warnings.warn(DeprecationWarning('configure'))\n"
    root = write_suite(tmp_path / "suite", {**STRICT_INI, "conftest.py": conftest})
    assert run_pytest(root, "-p", "no:cacheprovider", plugin=False).returncode == 0
    serve = Serve(root, "-p", "no:cacheprovider", ".")
    assert results(serve.job(["test_ok.py::test_ok"]))["test_ok.py::test_ok"]["outcome"] == "passed"
    assert serve.quit() == 0
