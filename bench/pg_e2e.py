#!/usr/bin/env python3
"""End to end on PostgreSQL against SQLite (stdlib only): a tiny suite run by two
"hosts" of one worker each on PostgreSQL, and by `arun run -n 2` on SQLite.

Each rep, interleaved, from a new database and a suite without caches:
  postgresql  `arun enqueue -n 2 --db URL --json -- -q -p no:cacheprovider`, then two
              `arun work --db URL --run ID -n 1` started together, each in a session of
              its own (separate process trees stand in for hosts); wall time from the
              enqueue's start to the last worker's exit (enqueue and work also apart)
  sqlite      `arun run -n 2 --db TMP/arun.db -- -q -p no:cacheprovider`
Every run must record every test as passed, on PostgreSQL from both hosts (checked in
its database). Prints one line
per run, then one JSON object: medians, the ratio postgresql / sqlite, the load.

  bench/pg_e2e.py [--arun .build/release/arun] [--tests 10000] [--reps 3] [--server URL]

Without --server it starts its own PostgreSQL 15 (bench/pg_server.py, fsync on) and
stops it at the end.
"""
import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import pg_server  # noqa: E402
import suites  # noqa: E402

PYTEST = ["-q", "-p", "no:cacheprovider"]
CACHES = {".pytest_cache", ".arun", "__pycache__"}


def clear_caches(root):
    for directory, names, _ in os.walk(root):
        for name in list(names):
            if name in CACHES:
                shutil.rmtree(os.path.join(directory, name), ignore_errors=True)
                names.remove(name)


def started(argv, cwd, env, log):
    """A process in a session of its own: its own process tree, as on another host."""
    handle = open(log, "w")
    return subprocess.Popen(argv, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True), handle


def finished(process, handle, what, log):
    code = process.wait()
    handle.close()
    if code != 0:
        with open(log) as text:
            sys.exit(f"{what} exited {code}:\n{text.read()[-3000:]}")


def run_postgres(arun, suite, env, server, rep, logs, tests):
    name = f"arun_e2e_{os.getpid()}_{rep}"
    pg_server.psql(server, f"DROP DATABASE IF EXISTS {name}")
    pg_server.psql(server, f"CREATE DATABASE {name}")
    url = pg_server.database_url(server, name)
    clear_caches(suite)
    start = time.monotonic()
    log = os.path.join(logs, f"pg-r{rep}-enqueue.log")
    enqueue = subprocess.run([arun, "enqueue", "-n", "2", "--db", url, "--json", "--", *PYTEST], cwd=suite, env=env,
                             capture_output=True, text=True)
    planned = time.monotonic()
    with open(log, "w") as handle:
        handle.write(enqueue.stdout + enqueue.stderr)
    if enqueue.returncode != 0:
        sys.exit(f"arun enqueue exited {enqueue.returncode}:\n{enqueue.stdout}{enqueue.stderr}")
    plan = json.loads(enqueue.stdout.strip().splitlines()[-1])
    workers = []
    for host in (1, 2):
        log = os.path.join(logs, f"pg-r{rep}-host{host}.log")
        workers.append((*started([arun, "work", "--db", url, "--run", str(plan["run"]), "-n", "1"], suite, env, log),
                        log))
    for process, handle, log in workers:
        finished(process, handle, "arun work", log)
    end = time.monotonic()
    passed = int(pg_server.psql(server, "SELECT count(*) FROM results WHERE outcome = 'passed'", database=name))
    # Both hosts must have worked: results name the worker (host and process) that wrote them.
    writers = int(pg_server.psql(server, "SELECT count(DISTINCT worker) FROM results", database=name))
    clear_caches(suite)
    pg_server.psql(server, f"DROP DATABASE {name}")
    if passed != tests:
        sys.exit(f"postgresql rep {rep}: {passed} of {tests} tests recorded as passed")
    if writers != 2:
        sys.exit(f"postgresql rep {rep}: results from {writers} workers, not 2")
    return {"wall": end - start, "enqueue": planned - start, "work": end - planned, "jobs": plan.get("jobs")}


def run_sqlite(arun, suite, env, rep, logs, tests):
    folder = tempfile.mkdtemp(prefix="arun-e2e-db-")
    db = os.path.join(folder, "arun.db")
    clear_caches(suite)
    log = os.path.join(logs, f"sqlite-r{rep}.log")
    start = time.monotonic()
    process, handle = started([arun, "run", "-n", "2", "--db", db, "--", *PYTEST], suite, env, log)
    finished(process, handle, "arun run", log)
    end = time.monotonic()
    with sqlite3.connect(db) as connection:
        passed = connection.execute("SELECT count(*) FROM results WHERE outcome = 'passed'").fetchone()[0]
    clear_caches(suite)
    shutil.rmtree(folder, ignore_errors=True)
    if passed != tests:
        sys.exit(f"sqlite rep {rep}: {passed} of {tests} tests recorded as passed")
    return {"wall": end - start}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arun", default=os.path.join(ROOT, ".build", "release", "arun"))
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--server", help="postgresql://USER@HOST:PORT/postgres (a role that may create databases); "
                                         "default: start one")
    parser.add_argument("--out", default=os.path.join(HERE, "out"))
    args = parser.parse_args()
    arun = os.path.abspath(args.arun)
    if not os.access(arun, os.X_OK):
        sys.exit(f"no arun at {arun}: build it (swift build -c release --product arun) or pass --arun")
    suite = os.path.join(os.path.abspath(args.out), "suites", f"tiny{args.tests}")
    suites.ensure("tiny", suite, seed=1, count=args.tests)
    logs = os.path.join(os.path.abspath(args.out), "logs", "pg_e2e")
    os.makedirs(logs, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "ARUN_DB"}
    env.setdefault("ARUN_PYTHON", sys.executable)
    own = None
    server = args.server
    if not server:
        own, server = pg_server.start()
    load_start = os.getloadavg()
    runs = {"postgresql": [], "sqlite": []}
    try:
        for rep in range(1, args.reps + 1):
            pg = run_postgres(arun, suite, env, server, rep, logs, args.tests)
            runs["postgresql"].append(pg)
            print(f"rep {rep} postgresql {pg['wall']:.2f} s (enqueue {pg['enqueue']:.2f} s, work {pg['work']:.2f} s, "
                  f"{pg['jobs']} jobs)", flush=True)
            lite = run_sqlite(arun, suite, env, rep, logs, args.tests)
            runs["sqlite"].append(lite)
            print(f"rep {rep} sqlite     {lite['wall']:.2f} s", flush=True)
    finally:
        if own:
            pg_server.stop(own)
    median = {kind: statistics.median(r["wall"] for r in reps) for kind, reps in runs.items()}
    print(json.dumps({
        "tests": args.tests, "reps": args.reps,
        "postgresql_seconds": round(median["postgresql"], 2), "sqlite_seconds": round(median["sqlite"], 2),
        "ratio": round(median["postgresql"] / median["sqlite"], 2),
        "postgresql_enqueue_seconds": round(statistics.median(r["enqueue"] for r in runs["postgresql"]), 2),
        "postgresql_work_seconds": round(statistics.median(r["work"] for r in runs["postgresql"]), 2),
        "runs": {kind: [round(r["wall"], 2) for r in reps] for kind, reps in runs.items()},
        "load_start": [round(x, 2) for x in load_start], "load_end": [round(x, 2) for x in os.getloadavg()],
    }))


if __name__ == "__main__":
    main()
