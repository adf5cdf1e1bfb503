#!/usr/bin/env python3
"""Time of `arun report` per format over one large run (issue #13's "every format <= 2 s").

Builds nothing: give it a database, e.g. the one ReportScaleTests keeps
(200,000 results, 1,000 retried, 2,000 failures with ~7 KB of captured output each):

  ARUN_REPORT_SCALE=200000 ARUN_REPORT_SCALE_KEEP=/tmp/scale.db swift test --filter ReportScale
  python3 bench/reports.py --db /tmp/scale.db [--reps 3] [--arun .build/release/arun] [--markdown]

Formats run interleaved (markdown, junit, json, text, html, then again), each writing
to a file with `-o`; per format the median wall time and the median CPU (user + sys,
from wait4(), robust to a loaded machine) and the output's size.  Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORMATS = ["markdown", "junit", "json", "text", "html"]


def timed(argv: list[str]) -> tuple[float, float, int]:
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--arun", default=os.environ.get("ARUN_BIN") or str(REPO / ".build/release/arun"))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()

    formats = args.formats.split(",")
    walls: dict[str, list[float]] = {f: [] for f in formats}
    cpus: dict[str, list[float]] = {f: [] for f in formats}
    sizes: dict[str, int] = {}
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with tempfile.TemporaryDirectory(prefix="arun-reports-") as tmp:
        for _ in range(args.reps):
            for fmt in formats:
                out = Path(tmp) / f"report.{fmt}"
                wall, cpu, code = timed([args.arun, "report", "--db", args.db, "--format", fmt, "-o", str(out)])
                # A report of a run with failures exits 0: it reports, it does not judge.
                if code != 0:
                    print(f"arun report --format {fmt} exited {code}", file=sys.stderr)
                    return 1
                walls[fmt].append(wall)
                cpus[fmt].append(cpu)
                sizes[fmt] = out.stat().st_size
        wall_runs, cpu_runs, _ = timed([args.arun, "runs", "--db", args.db])
    load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    rows = [{"format": f, "wall": statistics.median(walls[f]), "walls": walls[f],
             "cpu": statistics.median(cpus[f]), "bytes": sizes[f]} for f in formats]
    print(json.dumps({"rows": rows, "runs_wall": wall_runs, "runs_cpu": cpu_runs,
                      "load_before": load_before, "load_after": load_after}))
    if args.markdown:
        print("| format | wall s, median (runs) | CPU s, median | output |")
        print("| --- | ---: | ---: | ---: |")
        for row in rows:
            runs = " · ".join(f"{w:.2f}" for w in row["walls"])
            size = row["bytes"]
            shown = f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"
            print(f"| {row['format']} | {row['wall']:.2f} ({runs}) | {row['cpu']:.2f} | {shown} |")
        print(f"\n`arun runs`: {wall_runs:.2f} s wall, {cpu_runs:.2f} s CPU · load {load_before} → {load_after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
