#!/usr/bin/env python3
"""Cost per test from 20k to 200k tests: arun against serial pytest (issue #17).

For each size of the ``tiny`` suite (bench/suites.py), runs serial pytest and
``arun run -n N`` (a fresh database each time) and measures:

  wall        seconds from start to exit
  cpu         user + sys of the whole process tree (the process and every
              descendant it reaped), from wait4()
  parent cpu  user + sys of the ``arun run`` process alone: read from
              /proc/PID/stat while it is a zombie (waitid WNOWAIT), so the
              figure is its final one, without its children

CPU time is robust to a loaded machine (wall is not): the load average is
recorded before and after each run.  Stdlib only.

  python3 bench/scaling.py --sizes 20000,50000,100000,200000 [--workers 2]
      [--reps 1] [--arun PATH] [--out bench/out/scaling] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import suites  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(argv: list[str], cwd: Path, env: dict, log: Path, wal: Path | None = None) -> dict:
    """Runs argv; returns wall, tree CPU and the process's own CPU (seconds), and the
    largest size the SQLite WAL file ``wal`` reached (sampled every 0.2 s)."""
    before = loadavg()
    peak = 0
    with open(log, "wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        # Wait without reaping: a zombie's /proc/PID/stat holds its final own CPU time.
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is None:
            if wal is not None and wal.exists():
                peak = max(peak, wal.stat().st_size)
            time.sleep(0.2)
        wall = time.monotonic() - started
        stat = Path(f"/proc/{proc.pid}/stat").read_bytes()
        fields = stat[stat.rfind(b")") + 2:].split()
        own = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "own_cpu": own,
        "exit": proc.returncode,
        "wal_peak_mb": peak / 1e6,
        "load_before": before,
        "load_after": loadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000,50000,100000,200000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--arun", default=os.environ.get("ARUN_BIN") or str(REPO / ".build/release/arun"))
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--out", default=str(HERE / "out/scaling"))
    parser.add_argument("--only", default="pytest,arun", help="pytest, arun or both")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--keep-db", action="store_true", help="keep each size's database as OUT/arun-SIZE.db")
    args = parser.parse_args()

    out = Path(args.out)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", ARUN_PYTHON=args.python)
    env.pop("PYTEST_ADDOPTS", None)
    only = set(args.only.split(","))
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        suite = out / "suites" / f"tiny{size // 1000}k"
        manifest = suite / "suite.json"
        if not (manifest.exists() and json.loads(manifest.read_text()).get("count") == size):
            suites.generate_tiny(suite, size)
        for rep in range(args.reps):
            row = {"tests": size, "rep": rep + 1}
            if "pytest" in only:
                row["pytest"] = measure([args.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
                                        if (suite / "tests").is_dir() else
                                        [args.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                                        suite, env, out / "logs" / f"pytest-{size}-r{rep + 1}.log")
            if "arun" in only:
                with tempfile.TemporaryDirectory(prefix="arun-scaling-") as tmp:
                    row["arun"] = measure([args.arun, "run", "-n", str(args.workers), "--db", f"{tmp}/arun.db"],
                                          suite, env, out / "logs" / f"arun-{size}-r{rep + 1}.log",
                                          wal=Path(f"{tmp}/arun.db-wal"))
                    wal = Path(f"{tmp}/arun.db-wal")
                    row["arun"]["wal_mb"] = wal.stat().st_size / 1e6 if wal.exists() else 0.0
                    if args.keep_db:
                        kept = out / f"arun-{size}.db"
                        for suffix in ("", "-wal", "-shm"):
                            Path(f"{kept}{suffix}").unlink(missing_ok=True)
                            if Path(f"{tmp}/arun.db{suffix}").exists():
                                os.replace(f"{tmp}/arun.db{suffix}", f"{kept}{suffix}")
            rows.append(row)
            print(json.dumps(row), flush=True)
    (out / "results.json").write_text(json.dumps(rows, indent=1))
    if args.markdown:
        print(table(rows))
    return 0


def table(rows: list[dict]) -> str:
    lines = [
        "| tests | pytest wall | arun wall | arun/pytest wall | pytest CPU per 1k | arun CPU per 1k "
        "| arun/pytest CPU | arun parent CPU per 1k | WAL peak / at exit | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        k = row["tests"] / 1000
        p, a = row.get("pytest"), row.get("arun")
        cell = lambda v, f="{:.2f}": f.format(v) if v is not None else "–"  # noqa: E731
        lines.append("| {}k | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            int(k),
            cell(p and p["wall"], "{:.1f} s"), cell(a and a["wall"], "{:.1f} s"),
            cell(p and a and a["wall"] / p["wall"], "{:.2f}×"),
            cell(p and p["cpu"] / k, "{:.2f} s"), cell(a and a["cpu"] / k, "{:.2f} s"),
            cell(p and a and a["cpu"] / p["cpu"], "{:.2f}×"),
            cell(a and a["own_cpu"] / k, "{:.3f} s"),
            "{:.0f} / {:.0f} MB".format(a.get("wal_peak_mb", 0), a.get("wal_mb", 0)) if a else "–",
            " / ".join(x["load_before"].split()[0] for x in (p, a) if x),
        ))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
