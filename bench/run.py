#!/usr/bin/env python3
"""arun's benchmark harness: arun vs pytest, pytest-xdist, pytest-split and aomaker's rule.

Stdlib only.  See bench/README.md for what every figure means.

  python3 bench/run.py [--suite skewed,cpu,tiny10k,tiny50k,tiny200k,real] [--reps 3]
                       [--workers 2] [--smoke] [--arun PATH] [--out bench/out]
                       [--only pytest,xdist,split,arun,aomaker] [--markdown-into FILE]

Contenders run interleaved (rep 1 of each, then rep 2 of each, ...) and every
figure in the table is a median over the reps.  Each run starts from the same
state: caches (.pytest_cache, .hypothesis, .arun, __pycache__) are deleted
from the suite before it, and arun's cold run gets a new database in a new
temporary directory.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import suites as gen  # noqa: E402
import real_suite  # noqa: E402

ALL_SUITES = ["skewed", "cpu", "tiny10k", "tiny50k", "tiny200k", "real"]
DEFAULT_SUITES = ["skewed", "cpu", "tiny10k", "tiny50k", "real"]  # tiny200k only when asked
SMOKE_SUITES = ["skewed", "cpu", "tiny"]
TINY_SIZES = {"tiny10k": 10_000, "tiny50k": 50_000, "tiny200k": 200_000}
PYTEST_BASE = ["-q", "-p", "no:cacheprovider"]
CACHE_NAMES = {".pytest_cache", ".hypothesis", ".arun", "__pycache__"}
XDIST_MODES = ["load", "worksteal", "loadfile"]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# =========================================================================== processes


def _read_ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    r = data.rfind(b")")
    try:
        return int(data[r + 2:].split(None, 2)[1])
    except (IndexError, ValueError):
        return None


def _read_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class TreeSampler(threading.Thread):
    """Every ``interval`` s, sums VmRSS over all processes descending from ``roots``.

    Only /proc entries with a pid >= the smallest root (or already known to be in
    the tree) are read, which keeps a poll at ~1 ms; a pid wrap-around during a
    run would hide the wrapped children.  VmRSS counts shared pages once per
    process, so the sum over-states real memory for forked workers (it is what
    ``ps`` or a CI memory limit sees per process)."""

    def __init__(self, roots: list[int], interval: float):
        super().__init__(daemon=True)
        self.roots = set(roots)
        self.min_pid = min(roots)
        self.interval = interval
        self.known: set[int] = set(roots)
        self.peak_kb = 0
        self.peak_procs = 0
        self.samples = 0
        self.stop_event = threading.Event()

    def sample(self) -> None:
        ppids: dict[int, int] = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if pid < self.min_pid and pid not in self.known:
                continue
            pp = _read_ppid(pid)
            if pp is not None:
                ppids[pid] = pp
        children: dict[int, list[int]] = {}
        for pid, pp in ppids.items():
            children.setdefault(pp, []).append(pid)
        tree: set[int] = set()
        todo = [r for r in self.roots if r in ppids]
        while todo:
            pid = todo.pop()
            if pid in tree:
                continue
            tree.add(pid)
            todo.extend(children.get(pid, ()))
        self.known = tree | self.roots
        total = sum(_read_rss_kb(pid) for pid in tree)
        self.samples += 1
        if total > self.peak_kb:
            self.peak_kb = total
        if len(tree) > self.peak_procs:
            self.peak_procs = len(tree)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.sample()
            except Exception:  # never let the sampler kill a measurement
                pass
            self.stop_event.wait(self.interval)


@dataclass
class ProcSpec:
    argv: list[str]
    cwd: Path
    log: Path
    env: dict[str, str] | None = None


@dataclass
class ProcResult:
    argv: list[str]
    exit: int | None
    seconds: float
    log: str
    counts: dict[str, int] | None = None
    summary_line: str | None = None
    summary_seconds: float | None = None


_RUNNING: list[subprocess.Popen] = []


def run_set(specs: list[ProcSpec], timeout: float, poll: float) -> tuple[float, int, int, list[ProcResult], bool]:
    """Start every spec at once; returns (wall, peak_rss_kb, peak_procs, results, timed_out).

    wall = time.monotonic() from just before the first start to the last exit."""
    procs: list[subprocess.Popen] = []
    files = []
    ends: list[float | None] = [None] * len(specs)
    start = time.monotonic()
    try:
        for spec in specs:
            spec.log.parent.mkdir(parents=True, exist_ok=True)
            fh = open(spec.log, "wb")
            files.append(fh)
            p = subprocess.Popen(spec.argv, cwd=spec.cwd, env=spec.env, stdin=subprocess.DEVNULL,
                                 stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
            procs.append(p)
            _RUNNING.append(p)
    except OSError:
        for p in procs:
            _kill(p)
        for fh in files:
            fh.close()
        raise
    sampler = TreeSampler([p.pid for p in procs], poll)
    sampler.start()

    def waiter(i: int, p: subprocess.Popen) -> None:
        p.wait()
        ends[i] = time.monotonic()

    threads = [threading.Thread(target=waiter, args=(i, p), daemon=True) for i, p in enumerate(procs)]
    for t in threads:
        t.start()
    deadline = start + timeout
    timed_out = False
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        timed_out = True
        for p in procs:
            _kill(p)
        for t in threads:
            t.join(10)
    sampler.stop_event.set()
    sampler.join(5)
    for fh in files:
        fh.close()
    for p in procs:
        if p in _RUNNING:
            _RUNNING.remove(p)
    now = time.monotonic()
    wall = max((e if e is not None else now) for e in ends) - start
    results = []
    for spec, p, e in zip(specs, procs, ends):
        r = ProcResult(argv=spec.argv, exit=p.returncode, seconds=(e or now) - start, log=str(spec.log))
        r.summary_line, r.counts, r.summary_seconds = parse_summary(spec.log)
        results.append(r)
    return wall, sampler.peak_kb, sampler.peak_procs, results, timed_out


def _kill(p: subprocess.Popen) -> None:
    """Kill the process group we created for ``p`` (start_new_session), by its id."""
    if p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        try:
            p.kill()
        except OSError:
            pass


# =========================================================================== parsing

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SUMMARY = re.compile(
    r"^(?:[\w .#/-]{1,40}: )?=*\s*(?P<body>no tests ran|\d+ [a-z][a-z ]*(?:, \d+ [a-z][a-z ]*)*)"
    r" in (?P<secs>\d+(?:\.\d+)?) ?s(?:econds)?\b.*$")
_ITEM = re.compile(r"^(\d+) ([a-z][a-z ]*?)\s*$")
_NORMAL = {"errors": "error", "warnings": "warning"}


def parse_summary_text(text: str) -> tuple[str | None, dict[str, int] | None, float | None]:
    """The last pytest-like summary line: ``1 failed, 10 passed, 2 skipped in 3.2s``."""
    for line in reversed(_ANSI.sub("", text).splitlines()):
        m = _SUMMARY.match(line.strip())
        if not m:
            continue
        counts: dict[str, int] = {}
        if m.group("body") != "no tests ran":
            for part in m.group("body").split(", "):
                im = _ITEM.match(part.strip())
                if not im:
                    break
                key = _NORMAL.get(im.group(2), im.group(2))
                counts[key] = counts.get(key, 0) + int(im.group(1))
            else:
                return line.strip(), counts, float(m.group("secs"))
            continue
        return line.strip(), counts, float(m.group("secs"))
    return None, None, None


def parse_summary(path: Path) -> tuple[str | None, dict[str, int] | None, float | None]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 256 * 1024))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return None, None, None
    return parse_summary_text(text)


def add_counts(items: list[dict[str, int] | None]) -> dict[str, int] | None:
    if any(c is None for c in items):
        return None
    total: dict[str, int] = {}
    for c in items:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return total


def report_outcomes(obj) -> dict[str, int] | None:
    """Outcome counts from ``arun report --format json``, whatever its exact shape:
    every JSON object holding a string "outcome" counts once."""
    found: dict[str, int] = {}

    def walk(o) -> None:
        if isinstance(o, dict):
            if isinstance(o.get("outcome"), str):
                found[o["outcome"]] = found.get(o["outcome"], 0) + 1
                return
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(obj)
    return found or None


# =========================================================================== environment


def python_info(python: str) -> dict:
    code = ("import json, sys, platform, importlib.metadata as m\n"
            "d = {'python': platform.python_version(), 'implementation': platform.python_implementation()}\n"
            "for n in ('pytest', 'pytest-xdist', 'pytest-split', 'hypothesis'):\n"
            "    try: d[n] = m.version(n)\n"
            "    except Exception: d[n] = None\n"
            "print(json.dumps(d))\n")
    r = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"cannot run {python}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def find_arun(explicit: str | None) -> tuple[str | None, str]:
    """The arun binary: --arun, $ARUN_BIN, .build/release/arun, .build/debug/arun.

    Made absolute: contenders run in the suite's directory, not this one."""
    if explicit:
        explicit = os.path.abspath(explicit)
        return (explicit, "--arun") if os.access(explicit, os.X_OK) else (None, f"--arun {explicit} is not executable")
    env = os.environ.get("ARUN_BIN")
    if env:
        env = os.path.abspath(env)
        return (env, "ARUN_BIN") if os.access(env, os.X_OK) else (None, f"ARUN_BIN={env} is not executable")
    for kind in ("release", "debug"):
        p = REPO / ".build" / kind / "arun"
        if os.access(p, os.X_OK):
            return str(p), f".build/{kind}"
    return None, "no arun binary (--arun, ARUN_BIN, .build/release/arun, .build/debug/arun)"


@dataclass
class ArunCaps:
    path: str | None
    source: str
    run: bool = False
    dist_suite: bool = False
    dist_mark: bool = False
    report: bool = False
    reason: str = ""
    built: str = ""

    def describe(self) -> str:
        if not self.path:
            return f"absent ({self.source})"
        s = f"`{self.path}` ({self.source}, built {self.built})"
        if not self.run:
            s += f": {self.reason}"
        return s


def probe_arun(path: str | None, source: str) -> ArunCaps:
    caps = ArunCaps(path, source)
    if not path:
        caps.reason = source
        return caps
    try:
        caps.built = _dt.datetime.fromtimestamp(os.stat(path).st_mtime).strftime("%Y-%m-%d %H:%M")
    except OSError:
        pass

    def helptext(*args: str) -> tuple[int, str]:
        try:
            r = subprocess.run([path, *args, "--help"], capture_output=True, text=True, timeout=30)
            return r.returncode, r.stdout + r.stderr
        except (OSError, subprocess.TimeoutExpired) as e:
            return -1, str(e)

    rc, out = helptext("run")
    if rc == 0 and "--db" in out:
        caps.run = True
        caps.dist_suite = "--dist-suite" in out
        caps.dist_mark = "--dist-mark" in out
    else:
        caps.reason = f"`arun run --help` (exit {rc}) lists no --db: this build has no usable `run` yet"
    rc, out = helptext("report")
    caps.report = rc == 0 and "--format" in out
    return caps


def measure_startup(python: str, out: Path, reps: int = 3) -> tuple[float, list[float]]:
    """Median wall of ``python -m pytest --co -q`` in an empty directory."""
    empty = out / "startup-empty"
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir(parents=True)
    times = []
    for _ in range(reps):
        t = time.monotonic()
        subprocess.run([python, "-m", "pytest", "--co", *PYTEST_BASE], cwd=empty,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.monotonic() - t)
    return statistics.median(times), times


def clear_caches(root: Path) -> None:
    for dirpath, dirnames, _ in os.walk(root):
        for d in list(dirnames):
            if d in CACHE_NAMES:
                shutil.rmtree(os.path.join(dirpath, d), ignore_errors=True)
                dirnames.remove(d)


# =========================================================================== suites


@dataclass
class Suite:
    name: str
    root: Path
    kind: str
    count: int
    sum_seconds: float
    longest_seconds: float
    durations_path: Path
    expected_passed: int | None  # None: take the serial pytest run's figures
    extra_args: list[str] = field(default_factory=list)
    suite_dirs: list[str] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)
    description: str = ""
    note: str = ""


def prepare_suite(name: str, args, calibration: Path) -> Suite:
    out = Path(args.out)
    sroot = out / "suites"
    seed = args.seed
    if name == "skewed":
        scale = 0.05 if args.smoke else 1.0
        target = sroot / ("skewed-smoke" if args.smoke else "skewed")
        m = gen.ensure("skewed", target, seed=seed, scale=scale)
        return Suite(name, target, "skewed", m["count"], m["sum_seconds"], m["longest_seconds"],
                     target / ".test_durations", m["count"], suite_dirs=list(m["suites"]), marks=list(m["marks"]),
                     description=f"{m['count']} sleeping tests, 40 files, 4 suites, marks m1-m4, heavy tail "
                                 f"(seed {seed}, scale {scale})")
    if name == "cpu":
        count = 20 if args.smoke else 200
        lps = gen.cached_loops_per_sec(calibration)
        target = sroot / f"cpu{count}"
        m = gen.ensure("cpu", target, seed=seed, count=count, loops_per_sec=float(round(lps)))
        return Suite(name, target, "cpu", m["count"], m["sum_seconds"], m["longest_seconds"],
                     target / ".test_durations", m["count"],
                     description=f"{m['count']} busy-loop tests of 40-60 ms ({m['loops_per_sec']} loops/s calibrated)")
    if name.startswith("tiny"):
        count = 500 if args.smoke else TINY_SIZES[name]
        target = sroot / f"tiny{count}"
        m = gen.ensure("tiny", target, seed=seed, count=count)
        return Suite(name if not args.smoke else f"tiny{count}", target, "tiny", m["count"], 0.0, 0.0,
                     target / ".test_durations", m["count"],
                     description=f"{m['count']} trivial tests, 100 per file",
                     note="expected durations are 0: the lower bound is one start-up, so efficiency "
                          "here measures per-test overhead")
    if name == "real":
        info = real_suite.prepare(out, args.python, do_install=not args.no_install)
        return Suite("real", Path(info["root"]), "real", info["count"], info["sum_seconds"],
                     info["longest_seconds"], Path(info["durations_path"]), None,
                     extra_args=list(info["extra_args"]),
                     description=f"{info['name']} test suite from its sdist; authors run: {info['authors_command']}",
                     note="sum/longest come from one serial `--store-durations` run on this machine")
    raise ValueError(name)


# =========================================================================== contenders


@dataclass
class Contender:
    name: str
    group: str
    label: str
    workers: str


def contenders_for(suite: Suite, w: int) -> list[Contender]:
    cs = [Contender("pytest", "pytest", "pytest (serial)", "1")]
    for mode in XDIST_MODES:
        cs.append(Contender(f"xdist-{mode}", "xdist", f"pytest -n {w} --dist {mode}", str(w)))
    cs.append(Contender("split", "split", f"pytest-split {w} groups at once (least_duration)", str(w)))
    cs.append(Contender("arun-cold", "arun", f"arun run -n {w} (cold: new db)", str(w)))
    cs.append(Contender("arun-warm", "arun", f"arun run -n {w} (warm: same db again)", str(w)))
    if suite.suite_dirs:
        cs.append(Contender("arun-dist-suite", "arun", f"arun run -n {w} --dist-suite . (warm db)", str(w)))
    if suite.marks:
        cs.append(Contender("arun-dist-mark", "arun", f"arun run -n {w} --dist-mark {' '.join(suite.marks)} (warm db)",
                            str(w)))
    if suite.marks:
        cs.append(Contender("aomaker-mark", "aomaker", "aomaker rule: one `pytest -m mK` per mark at once",
                            str(len(suite.marks))))
    if suite.suite_dirs:
        cs.append(Contender("aomaker-suite", "aomaker", "aomaker rule: one `pytest suite_X/` per suite at once",
                            str(len(suite.suite_dirs))))
    return cs


def selected(c: Contender, only: set[str] | None) -> bool:
    return only is None or c.group in only or c.name in only


class Runner:
    def __init__(self, args, pyinfo: dict, caps: ArunCaps):
        self.args = args
        self.py = args.python
        self.w = args.workers
        self.pyinfo = pyinfo
        self.caps = caps
        self.out = Path(args.out).resolve()
        self.env = dict(os.environ)
        self.arun_env = dict(os.environ)
        self.arun_env.setdefault("ARUN_PYTHON", self.py)
        self.arun_env.pop("ARUN_DB", None)
        self.db_dir: Path | None = None

    # -- availability ------------------------------------------------------
    def unavailable(self, c: Contender, suite: Suite) -> str | None:
        if c.group == "xdist" and not self.pyinfo.get("pytest-xdist"):
            return "pytest-xdist is not installed (pip install pytest-xdist==3.8.0)"
        if c.group == "split":
            if not self.pyinfo.get("pytest-split"):
                return "pytest-split is not installed (pip install pytest-split==0.11.0)"
            if not suite.durations_path.exists():
                return f"no durations file {suite.durations_path}"
        if c.group == "arun":
            if not self.caps.run:
                return f"arun unavailable: {self.caps.reason}"
            if c.name == "arun-dist-suite" and not self.caps.dist_suite:
                return "this arun build has no --dist-suite"
            if c.name == "arun-dist-mark" and not self.caps.dist_mark:
                return "this arun build has no --dist-mark"
        return None

    # -- commands ----------------------------------------------------------
    def pytest_cmd(self, suite: Suite, *extra: str) -> list[str]:
        return [self.py, "-m", "pytest", *PYTEST_BASE, *suite.extra_args, *extra]

    def arun_cmd(self, suite: Suite, db: Path, *mode: str) -> list[str]:
        return [self.caps.path or "arun", "run", "-n", str(self.w), "--db", str(db), *mode, "--",
                *PYTEST_BASE, *suite.extra_args]

    def specs(self, c: Contender, suite: Suite, rep: int) -> list[ProcSpec]:
        logdir = self.out / "logs" / suite.name
        def spec(argv, i=None, env=None):
            tag = f"{c.name}-r{rep}" + (f"-p{i}" if i is not None else "")
            return ProcSpec(argv, suite.root, logdir / f"{tag}.log", env if env is not None else self.env)
        n = c.name
        if n == "pytest":
            return [spec(self.pytest_cmd(suite))]
        if n.startswith("xdist-"):
            return [spec(self.pytest_cmd(suite, "-n", str(self.w), "--dist", n.split("-", 1)[1]))]
        if n == "split":
            return [spec(self.pytest_cmd(suite, "--splits", str(self.w), "--group", str(g),
                                         "--splitting-algorithm", "least_duration",
                                         # "=": a separate existing path would move pytest's rootdir
                                         f"--durations-path={suite.durations_path}"), g)
                    for g in range(1, self.w + 1)]
        if n == "aomaker-mark":
            return [spec(self.pytest_cmd(suite, "-m", m), i) for i, m in enumerate(suite.marks, 1)]
        if n == "aomaker-suite":
            return [spec(self.pytest_cmd(suite, d + "/"), i) for i, d in enumerate(suite.suite_dirs, 1)]
        db = self.db_dir / "arun.db"
        if n in ("arun-cold", "arun-warm"):
            return [spec(self.arun_cmd(suite, db), env=self.arun_env)]
        if n == "arun-dist-suite":
            return [spec(self.arun_cmd(suite, db, "--dist-suite", "."), env=self.arun_env)]
        if n == "arun-dist-mark":
            return [spec(self.arun_cmd(suite, db, "--dist-mark", *suite.marks), env=self.arun_env)]
        raise ValueError(n)

    def display_command(self, c: Contender, suite: Suite) -> str:
        saved = self.db_dir
        self.db_dir = Path("$TMP")
        try:
            specs = self.specs(c, suite, 0)
        finally:
            self.db_dir = saved
        py = self.py
        def show(argv):
            argv = ["python3" if a == py else a for a in argv]
            if c.group == "arun" and argv:
                argv[0] = "arun"
            return " ".join(shlex.quote(a) if not a.startswith("$TMP") else a for a in argv)
        cmds = [show(s.argv) for s in specs]
        return cmds[0] if len(cmds) == 1 else " & ".join(cmds) + " & wait"

    # -- one run -----------------------------------------------------------
    def timeout_for(self, suite: Suite) -> float:
        if self.args.timeout:
            return self.args.timeout
        if self.args.smoke:
            return 120.0
        return max(300.0, 6 * (suite.sum_seconds + suite.count * 0.002) + 60)

    def new_db(self) -> None:
        self.drop_db()
        self.db_dir = Path(tempfile.mkdtemp(prefix="arun-bench-db-"))

    def drop_db(self) -> None:
        if self.db_dir and not self.args.keep_db:
            shutil.rmtree(self.db_dir, ignore_errors=True)
        self.db_dir = None

    def run_once(self, c: Contender, suite: Suite, rep: int) -> dict:
        if c.name == "arun-cold" or (c.group == "arun" and self.db_dir is None):
            self.new_db()
            if c.name != "arun-cold":  # warm modes without a cold run before them: prime, untimed
                clear_caches(suite.root)
                log(f"  priming arun database for {c.name} (untimed)")
                prime = ProcSpec(self.arun_cmd(suite, self.db_dir / "arun.db"), suite.root,
                                 self.out / "logs" / suite.name / f"arun-prime-r{rep}.log", self.arun_env)
                run_set([prime], self.timeout_for(suite), self.args.poll_ms / 1000)
        clear_caches(suite.root)
        specs = self.specs(c, suite, rep)
        wall, peak_kb, peak_procs, results, timed_out = run_set(specs, self.timeout_for(suite),
                                                                self.args.poll_ms / 1000)
        clear_caches(suite.root)
        counts = add_counts([r.counts for r in results])
        exits = [r.exit for r in results]
        rec = {
            "rep": rep, "wall": round(wall, 3), "peak_rss_kb": peak_kb, "peak_procs": peak_procs,
            "exit": next((e for e in exits if e != 0), 0) if all(e is not None for e in exits) else None,
            "exits": exits, "timed_out": timed_out, "counts": counts,
            "processes": [r.__dict__ for r in results],
        }
        if c.group == "arun" and self.caps.report and self.db_dir is not None:
            rec["report"] = self.arun_report()
        return rec

    def compare_outcomes(self, suite: Suite) -> dict:
        """Untimed: one serial pytest run (verdicts recorded by outcome_recorder.py) and
        one arun run on a new database; the per-test outcomes of both, compared."""
        work = Path(tempfile.mkdtemp(prefix="arun-bench-outcomes-"))
        try:
            env = dict(self.env)
            env["BENCH_OUTCOMES"] = str(work / "pytest.json")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "bench"), env.get("PYTHONPATH")]))
            logdir = self.out / "logs" / suite.name
            clear_caches(suite.root)
            run_set([ProcSpec(self.pytest_cmd(suite, "-p", "outcome_recorder"), suite.root,
                              logdir / "outcomes-pytest.log", env)], self.timeout_for(suite), 1.0)
            clear_caches(suite.root)
            run_set([ProcSpec(self.arun_cmd(suite, work / "arun.db"), suite.root, logdir / "outcomes-arun.log",
                              self.arun_env)], self.timeout_for(suite), 1.0)
            clear_caches(suite.root)
            serial = json.loads((work / "pytest.json").read_text())
            arun = {t["nodeid"]: t["outcome"] for t in self.report_json(work / "arun.db")["tests"]}
        except (OSError, ValueError, KeyError, RuntimeError, subprocess.SubprocessError) as e:
            return {"error": f"{type(e).__name__}: {e}"}
        finally:
            shutil.rmtree(work, ignore_errors=True)
        differ = sorted(n for n in set(serial) | set(arun) if serial.get(n) != arun.get(n))
        return {"tests": len(serial), "arun_tests": len(arun), "differ": len(differ),
                "examples": [f"{n}: pytest {serial.get(n)}, arun {arun.get(n)}" for n in differ[:10]]}

    def report_json(self, db: Path) -> dict:
        """`arun report --format json` of `db`; RuntimeError when arun exits non-zero,
        ValueError when it prints something else than JSON."""
        r = subprocess.run([self.caps.path, "report", "--format", "json", "--db", str(db)],
                           capture_output=True, text=True, timeout=120, env=self.arun_env)
        if r.returncode != 0:
            raise RuntimeError(f"exit {r.returncode}: {r.stderr.strip()[:300]}")
        return json.loads(r.stdout)

    def arun_report(self) -> dict:
        try:
            return {"outcomes": report_outcomes(self.report_json(self.db_dir / "arun.db"))}
        except (OSError, subprocess.TimeoutExpired, RuntimeError) as e:
            return {"error": str(e)}
        except ValueError as e:
            return {"error": f"not JSON: {e}"}


# =========================================================================== evaluation


def judge(suite: Suite, runs: list[dict], reference: dict[str, int] | None) -> list[str]:
    """Problems of one contender's runs: exit codes, time-outs, missing or differing counts."""
    problems = []
    for r in runs:
        tag = f"rep {r['rep']}"
        if r.get("error"):
            problems.append(f"{tag}: harness error: {r['error']}")
            continue
        if r["timed_out"]:
            problems.append(f"{tag}: timed out")
        if r["exit"] != 0:
            problems.append(f"{tag}: exit {r['exits']}")
        c = r["counts"]
        if c is None:
            problems.append(f"{tag}: no pytest-like summary line in the output")
            continue
        if suite.expected_passed is not None:
            if c.get("passed", 0) != suite.expected_passed or c.get("failed", 0) or c.get("error", 0):
                problems.append(f"{tag}: {c.get('passed', 0)} passed, {c.get('failed', 0)} failed, "
                                f"{c.get('error', 0)} errors (expected {suite.expected_passed} passed)")
        elif reference is not None:
            for k in ("passed", "failed", "error"):
                if c.get(k, 0) != reference.get(k, 0):
                    problems.append(f"{tag}: {k} {c.get(k, 0)} != serial pytest's {reference.get(k, 0)}")
        rep = r.get("report") or {}
        if rep.get("outcomes") and rep["outcomes"].get("passed") not in (None, c.get("passed", 0)):
            r.setdefault("notes", []).append(
                f"arun report counts {rep['outcomes'].get('passed')} passed vs summary {c.get('passed', 0)}")
    return problems


def summarize(suite: Suite, contenders: list[Contender], data: dict, startup: float, w: int) -> dict:
    bound = max(suite.longest_seconds, suite.sum_seconds / w) + startup
    rows = {}
    for c in contenders:
        d = data[c.name]
        row = {"label": c.label, "group": c.group, "workers": c.workers, "command": d["command"]}
        if d.get("na"):
            row["na"] = d["na"]
            rows[c.name] = row
            continue
        runs = [r for r in d["runs"] if not r.get("error")]
        walls = [r["wall"] for r in runs]
        if walls:
            row["median_wall"] = round(statistics.median(walls), 3)
            row["min_wall"], row["max_wall"] = min(walls), max(walls)
            row["median_peak_rss_mib"] = round(statistics.median(r["peak_rss_kb"] for r in runs) / 1024, 1)
            row["efficiency"] = round(bound / row["median_wall"], 3) if row["median_wall"] > 0 else None
            last = runs[-1]["counts"] or {}
            row["passed"] = last.get("passed")
            row["failed"] = (last.get("failed", 0) + last.get("error", 0)) if runs[-1]["counts"] is not None else None
            row["exit"] = runs[-1]["exit"]
        row["problems"] = d.get("problems", [])
        row["notes"] = sorted({n for r in d["runs"] for n in r.get("notes", [])})
        rows[c.name] = row
    xd = [rows[n]["median_wall"] for n in rows if n.startswith("xdist-") and "median_wall" in rows[n]
          and not rows[n]["problems"]]
    best_xdist = min(xd) if xd else None
    serial = rows.get("pytest", {}).get("median_wall")
    for row in rows.values():
        if "median_wall" in row:
            row["vs_best_xdist"] = round(row["median_wall"] / best_xdist, 3) if best_xdist else None
            row["speedup_vs_serial"] = round(serial / row["median_wall"], 2) if serial else None
    return {"lower_bound": round(bound, 3), "best_xdist": best_xdist, "rows": rows}


# =========================================================================== output


def fmt(v, spec="{:.2f}", na="–"):
    return na if v is None else spec.format(v)


def suite_markdown(suite: Suite, s: dict, startup: float, w: int) -> str:
    lines = [f"### {suite.name}: {suite.description}", "",
             f"{suite.count} tests · Σ durations {suite.sum_seconds:.2f} s · longest {suite.longest_seconds:.2f} s · "
             f"lower bound {s['lower_bound']:.2f} s = max(longest, Σ/{w}) + start-up {startup:.2f} s"
             + (f" · {suite.note}" if suite.note else ""), "",
             "| contender | procs | wall s (median) | min–max | × best xdist | speed-up vs serial | efficiency "
             "| peak RSS MiB | passed | failed+err | exit | notes |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, row in s["rows"].items():
        if row.get("na"):
            lines.append(f"| {row['label']} | {row['workers']} | n/a | | | | | | | | | {row['na']} |")
            continue
        if "median_wall" not in row:
            lines.append(f"| {row['label']} | {row['workers']} | failed | | | | | | | | | "
                         f"{'; '.join(row.get('problems', []))[:300]} |")
            continue
        notes = "; ".join(row["problems"] + row["notes"])
        if row["problems"]:
            notes = "**FAIL** " + notes
        lines.append(
            f"| {row['label']} | {row['workers']} | {row['median_wall']:.2f} | {row['min_wall']:.2f}–{row['max_wall']:.2f} "
            f"| {fmt(row.get('vs_best_xdist'))} | {fmt(row.get('speedup_vs_serial'))} | {fmt(row.get('efficiency'))} "
            f"| {fmt(row.get('median_peak_rss_mib'), '{:.0f}')} | {fmt(row.get('passed'), '{}')} "
            f"| {fmt(row.get('failed'), '{}')} | {fmt(row.get('exit'), '{}')} | {notes[:400]} |")
    check = s.get("outcomes_check")
    if check:
        if check.get("error"):
            lines += ["", f"Per-test outcomes vs serial pytest: check failed ({check['error']})"]
        else:
            lines += ["", f"Per-test outcomes vs serial pytest (one untimed run each): {check['tests']} tests, "
                          f"arun recorded {check['arun_tests']}, **{check['differ']} differ**"
                          + "".join(f"\n  - {e}" for e in check["examples"])]
    lines += ["", "<details><summary>commands (run in the suite's root; $TMP = a new temporary directory)</summary>", ""]
    for name, row in s["rows"].items():
        lines.append(f"- {name}: `{row['command']}`")
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def header_markdown(meta: dict) -> str:
    pi = meta["python_info"]
    return "\n".join([
        f"## arun benchmarks ({meta['date']}{', smoke' if meta['smoke'] else ''})", "",
        f"cores: {meta['cpu_count']} (`os.cpu_count()`) · Python {pi['python']} · pytest {pi['pytest']} · "
        f"pytest-xdist {pi['pytest-xdist'] or 'absent'} · pytest-split {pi['pytest-split'] or 'absent'} · "
        f"arun: {meta['arun']} · reps: {meta['reps']} (interleaved; medians) · workers: {meta['workers']} · "
        f"PYTHONDONTWRITEBYTECODE={meta['env'].get('PYTHONDONTWRITEBYTECODE') or 'unset'} · "
        f"pytest start-up {meta['startup']:.2f} s (median of 3 `pytest --co -q` on an empty dir) · "
        f"load average {meta['load_start']} at start" + (f", {meta['load_end']} at end" if meta.get('load_end') else ""), "",
    ])


def replace_marked(path: Path, text: str) -> bool:
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    try:
        body = path.read_text()
    except OSError as e:
        log(f"--markdown-into: cannot read {path}: {e}")
        return False
    i, j = body.find(start), body.find(end)
    if i < 0 or j < i:
        log(f"--markdown-into: {path} has no {start} ... {end} section; left untouched")
        return False
    path.write_text(body[:i + len(start)] + "\n" + text.rstrip() + "\n" + body[j:])
    return True


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# =========================================================================== main


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", help=f"comma list of {','.join(ALL_SUITES)} "
                                     f"(default {','.join(DEFAULT_SUITES)}; smoke: skewed,cpu,tiny)")
    ap.add_argument("--reps", type=int, help="repetitions (default 3; smoke 1)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, 1 rep, non-zero exit on any failure")
    ap.add_argument("--arun", help="arun binary (default $ARUN_BIN, .build/release/arun, .build/debug/arun)")
    ap.add_argument("--out", default=str(HERE / "out"))
    ap.add_argument("--only", help="comma list of groups (pytest,xdist,split,arun,aomaker) or contender names")
    ap.add_argument("--python", default=sys.executable, help="interpreter for pytest (default: this one)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, help="seconds per contender run (default scales with the suite)")
    ap.add_argument("--poll-ms", type=float, default=50.0, help="RSS sampling period")
    ap.add_argument("--markdown-into", help="replace the <!-- bench:start -->...<!-- bench:end --> section of FILE")
    ap.add_argument("--no-install", action="store_true", help="real suite: do not pip install its deps")
    ap.add_argument("--keep-db", action="store_true", help="keep arun's temporary databases")
    ap.add_argument("--strict", action="store_true", help="non-zero exit on failures also without --smoke")
    a = ap.parse_args(argv)
    if a.reps is None:
        a.reps = 1 if a.smoke else 3
    if a.suite:
        names = [s.strip() for s in a.suite.split(",") if s.strip()]
        bad = [s for s in names if s not in ALL_SUITES + ["tiny"]]
        if bad:
            ap.error(f"unknown suite(s) {bad}; choose from {ALL_SUITES}")
    else:
        names = SMOKE_SUITES if a.smoke else DEFAULT_SUITES
    if a.smoke:  # every tiny size is 500 tests in smoke mode: run it once
        names = list(dict.fromkeys("tiny" if n.startswith("tiny") else n for n in names))
    a.suites = [("tiny10k" if n == "tiny" else n) for n in names]
    a.only_set = set(x.strip() for x in a.only.split(",")) if a.only else None
    a.out = str(Path(a.out).resolve())
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pyinfo = python_info(args.python)
    path, source = find_arun(args.arun)
    caps = probe_arun(path, source)
    log(f"arun: {caps.describe()}")
    startup, startup_all = measure_startup(args.python, out)
    log(f"pytest start-up: {startup:.2f}s ({', '.join(f'{t:.2f}' for t in startup_all)})")
    meta = {
        "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "smoke": args.smoke, "cpu_count": os.cpu_count(), "platform": platform.platform(),
        "python_info": pyinfo, "python": args.python, "arun": caps.describe(), "arun_caps": caps.__dict__,
        "reps": args.reps, "workers": args.workers, "startup": round(startup, 3), "startup_all": startup_all,
        "env": {k: os.environ.get(k) for k in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS", "PYTEST_PLUGINS",
                                                "ARUN_PYTHON")},
        "load_start": loadavg(), "only": args.only, "argv": sys.argv[1:],
    }
    runner = Runner(args, pyinfo, caps)
    print(header_markdown(meta), flush=True)
    results = {"meta": meta, "suites": {}}
    failures: list[str] = []
    md_parts = []
    stem = "results-smoke" if args.smoke else "results"

    def interrupt(signum, frame):
        for p in list(_RUNNING):
            _kill(p)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        for sname in args.suites:
            log(f"suite {sname}: preparing")
            try:
                suite = prepare_suite(sname, args, out / "cpu_calibration.json")
            except Exception as e:  # the real suite needs the network the first time
                msg = f"suite {sname} unavailable: {type(e).__name__}: {e}"
                log(msg)
                results["suites"][sname] = {"error": msg}
                md_parts.append(f"### {sname}\n\nn/a: {msg}\n")
                if args.smoke or sname != "real":
                    failures.append(msg)
                continue
            cs = [c for c in contenders_for(suite, args.workers) if selected(c, args.only_set)]
            data = {c.name: {"runs": [], "command": runner.display_command(c, suite)} for c in cs}
            for c in cs:
                na = runner.unavailable(c, suite)
                if na:
                    data[c.name]["na"] = na
            for rep in range(1, args.reps + 1):
                runner.drop_db()
                for c in cs:
                    if data[c.name].get("na"):
                        continue
                    log(f"suite {suite.name} rep {rep}/{args.reps}: {c.name}")
                    try:
                        rec = runner.run_once(c, suite, rep)
                    except Exception as e:  # a contender must never take the harness down
                        rec = {"rep": rep, "error": f"{type(e).__name__}: {e}"}
                    data[c.name]["runs"].append(rec)
                    if "wall" in rec:
                        cnt = rec["counts"]
                        log(f"    {rec['wall']:.2f}s exit {rec['exits']} peak {rec['peak_rss_kb'] / 1024:.0f} MiB "
                            f"{cnt if cnt is not None else 'no summary'}")
                    else:
                        log(f"    error: {rec['error']}")
                runner.drop_db()
            # the real suite has no known count: compare with the serial pytest run
            reference = None
            if suite.expected_passed is None and data.get("pytest", {}).get("runs"):
                reference = data["pytest"]["runs"][0].get("counts")
            for c in cs:
                d = data[c.name]
                if d.get("na"):
                    continue
                d["problems"] = judge(suite, d["runs"], reference)
                failures += [f"{suite.name}/{c.name}: {p}" for p in d["problems"]]
            summary = summarize(suite, cs, data, startup, args.workers)
            if sname == "real" and runner.caps.run and data.get("pytest", {}).get("runs"):
                log(f"suite {suite.name}: per-test outcomes, serial pytest vs arun (untimed)")
                check = runner.compare_outcomes(suite)
                summary["outcomes_check"] = check
                if check.get("error") or check.get("differ"):
                    failures.append(f"{suite.name}: per-test outcomes differ from serial pytest: {check}")
            results["suites"][suite.name] = {
                "root": str(suite.root), "kind": suite.kind, "count": suite.count,
                "sum_seconds": suite.sum_seconds, "longest_seconds": suite.longest_seconds,
                "description": suite.description, "note": suite.note, "extra_args": suite.extra_args,
                "durations_path": str(suite.durations_path), **summary, "contenders": data,
            }
            md_parts.append(suite_markdown(suite, summary, startup, args.workers))
            print(md_parts[-1], flush=True)
    except KeyboardInterrupt:
        for p in list(_RUNNING):
            _kill(p)
        log("interrupted: writing what was measured")
        failures.append("interrupted")
    finally:
        runner.drop_db()
    meta["load_end"] = loadavg()
    md = header_markdown(meta) + "\n" + "\n".join(md_parts)
    if failures:
        md += "\n**Problems**\n\n" + "\n".join(f"- {f}" for f in failures) + "\n"
    (out / f"{stem}.md").write_text(md)
    results["failures"] = failures
    (out / f"{stem}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    if failures:
        print("**Problems**\n\n" + "\n".join(f"- {f}" for f in failures) + "\n")
    print(f"load average at end: {meta['load_end']}")
    log(f"wrote {out / (stem + '.md')} and {out / (stem + '.json')}")
    if args.markdown_into:
        if replace_marked(Path(args.markdown_into), md):
            log(f"replaced the bench section of {args.markdown_into}")
    if failures:
        log(f"{len(failures)} problem(s):")
        for f in failures:
            log(f"  - {f}")
        if args.smoke or args.strict:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
