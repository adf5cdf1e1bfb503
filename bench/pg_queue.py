#!/usr/bin/env python3
"""arun's PostgreSQL queue against pgbench running the same statements, in one run.

Each round makes fresh databases on one server and measures, with the same
synchronous_commit and the same number of client processes:
  - arun:   `arun-bench queue --db postgresql://... --procs P --jobs N --json`
            (one statement per job: completing a job and claiming the next commit together)
  - pgbench (two): the claim and the complete statement, two transactions per job
  - pgbench (one): arun's own combined complete-and-claim statement, one per job
and prints one JSON object per setting. Usage:

  bench/pg_queue.py [--server postgresql://postgres@127.0.0.1:5432/postgres] \
      --arun-bench .build/release/arun-bench --jobs 4000 --procs 4 --rounds 3

Without --server it starts its own PostgreSQL 15 (bench/pg_server.py, fsync on).
--before PATH measures an earlier arun-bench build in the same rounds (before/after).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg_server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NOW = "EXTRACT(epoch FROM now())::float8"
NEXT = f"""next AS MATERIALIZED (
    SELECT id FROM jobs WHERE run_id = 1 AND state = 'queued' AND available_at <= {NOW}
    ORDER BY estimated_seconds DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)"""
COLUMNS = "j.id, j.run_id, j.name, j.attempt, j.max_attempts, j.estimated_seconds, j.lease_expires_at, j.payload"

# The statements PostgresQueue sends (Sources/Queue/PostgresQueue+Claims.swift), with
# pgbench variables in place of bound parameters.
CLAIM = f"""WITH {NEXT}
UPDATE jobs j SET state = 'running', lease_owner = 'pgbench-' || :client_id, lease_expires_at = {NOW} + 30,
    started_at = {NOW}, claim_token = :client_id
FROM next WHERE j.id = next.id RETURNING {COLUMNS}"""
COMPLETE = f"""UPDATE jobs SET state = 'done', lease_expires_at = NULL,
    finished_at = CASE WHEN state = 'done' THEN finished_at ELSE {NOW} END
WHERE id = :job AND lease_owner = 'pgbench-' || :client_id AND attempt = :attempt AND state IN ('running', 'done')
RETURNING 1"""
TWO = CLAIM.replace("RETURNING j.id, j.run_id", "RETURNING j.id AS job, j.run_id") + " \\gset\n" + COMPLETE + ";\n"
ONE = f"""WITH done AS ({COMPLETE}),
{NEXT},
claimed AS (
    UPDATE jobs j SET state = 'running', lease_owner = 'pgbench-' || :client_id, lease_expires_at = {NOW} + 30,
        started_at = {NOW}, claim_token = :client_id
    FROM next WHERE j.id = next.id
    RETURNING {COLUMNS})
SELECT (SELECT count(*) FROM done)::int8 AS completed, coalesce(claimed.id, 0) AS job,
       coalesce(claimed.attempt, 0) AS attempt
FROM (SELECT 1) AS one LEFT JOIN claimed ON true \\gset
"""


def psql(server, database, sql):
    url = urllib.parse.urlparse(server)
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", url.hostname,
                          "-p", str(url.port or 5432), "-U", url.username, "-d", database, "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def fresh(server, name, arun_bench, jobs):
    psql(server, "postgres", f"DROP DATABASE IF EXISTS {name}")
    psql(server, "postgres", f"CREATE DATABASE {name}")
    url = urllib.parse.urlparse(server)._replace(path="/" + name).geturl()
    return url


def migrate_and_fill(server, name, jobs):
    """The same schema (migrations/postgres) and the same jobs arun-bench enqueues."""
    url = urllib.parse.urlparse(server)
    for file in sorted(os.listdir(os.path.join(ROOT, "migrations", "postgres"))):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.hostname, "-p", str(url.port or 5432),
                        "-U", url.username, "-d", name, "-f", os.path.join(ROOT, "migrations", "postgres", file)],
                       check=True, capture_output=True)
    psql(server, name, f"""
        INSERT INTO runs (id, name, created_at) VALUES (1, 'bench', 0);
        INSERT INTO jobs (run_id, name, estimated_seconds) SELECT 1, 'job-' || g, g % 97 FROM generate_series(0, {jobs - 1}) g;""")
    psql(server, name, "VACUUM ANALYZE jobs")


def pgbench(server, name, script, procs, transactions, setting):
    url = urllib.parse.urlparse(server)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    env = dict(os.environ, PGOPTIONS=f"-c synchronous_commit={setting}")
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(procs), "-j", str(procs),
                          "-t", str(transactions), "-D", "job=0", "-D", "attempt=0", "-f", handle.name,
                          "-h", url.hostname, "-p", str(url.port or 5432), "-U", url.username, name],
                         capture_output=True, text=True, env=env)
    os.unlink(handle.name)
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out.stdout)
    if out.returncode != 0 or not match:
        sys.exit(f"pgbench failed: {out.stdout}{out.stderr}")
    return float(match.group(1))


def drain(args, binary, setting):
    """One arun-bench queue run on a fresh database; its JSON."""
    url = fresh(args.server, "arun_bench_arun", binary, args.jobs)
    out = subprocess.run([binary, "queue", "--db", url, "--jobs", str(args.jobs), "--procs", str(args.procs),
                          "--synchronous-commit", setting, "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"arun-bench failed: {out.stdout}{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(args, setting):
    """One round of one setting: arun (and the earlier build, if given), then pgbench with
    two and with one statement per job."""
    transactions = args.jobs // args.procs
    arun = drain(args, args.arun_bench, setting)
    before = drain(args, args.before, setting) if args.before else None
    figures = {}
    for label, script in (("pgbench_two_per_job", TWO), ("pgbench_one_per_job", ONE)):
        fresh(args.server, "arun_bench_pgbench", args.arun_bench, args.jobs)
        migrate_and_fill(args.server, "arun_bench_pgbench", args.jobs)
        figures[label] = round(pgbench(args.server, "arun_bench_pgbench", script, args.procs, transactions, setting))
    result = {
        "synchronous_commit": arun.get("synchronous_commit"), "procs": args.procs, "jobs": args.jobs,
        "arun_per_second": arun["per_second"],
        "duplicates": arun["duplicates"] + (before["duplicates"] if before else 0),
        "lost": arun["lost"] + (before["lost"] if before else 0),
        **figures,
        "ratio_to_two": round(arun["per_second"] / figures["pgbench_two_per_job"], 2),
        "ratio_to_one": round(arun["per_second"] / figures["pgbench_one_per_job"], 2),
    }
    if before:
        result["before_per_second"] = before["per_second"]
        result["before_ratio_to_two"] = round(before["per_second"] / figures["pgbench_two_per_job"], 2)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", help="postgresql://USER@HOST:PORT/postgres (a role that may create databases); "
                                         "default: start one (bench/pg_server.py, fsync on)")
    parser.add_argument("--arun-bench", default=os.path.join(ROOT, ".build", "release", "arun-bench"))
    parser.add_argument("--before", help="an earlier arun-bench build, measured in the same rounds (before/after)")
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--settings", default="on,off", help="synchronous_commit values to measure")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds, each measuring every setting; with more than one, a last line of medians")
    args = parser.parse_args()
    own = None
    if not args.server:
        own, args.server = pg_server.start()
    rounds = {setting: [] for setting in args.settings.split(",")}
    try:
        for _ in range(args.rounds):
            for setting in rounds:
                figures = measure(args, setting)
                rounds[setting].append(figures)
                print(json.dumps(figures), flush=True)
    finally:
        if own:
            pg_server.stop(own)
    if args.rounds > 1:
        keys = ["arun_per_second", "pgbench_two_per_job", "pgbench_one_per_job"] + (
            ["before_per_second"] if args.before else [])
        for setting, measured in rounds.items():
            median = {key: statistics.median(m[key] for m in measured) for key in keys}
            summary = {
                "median_of": len(measured), "synchronous_commit": setting, **{k: round(v) for k, v in median.items()},
                "ratio_to_two": round(median["arun_per_second"] / median["pgbench_two_per_job"], 2),
                "ratio_to_one": round(median["arun_per_second"] / median["pgbench_one_per_job"], 2),
                "round_ratios_to_two": [m["ratio_to_two"] for m in measured],
                "duplicates": sum(m["duplicates"] for m in measured), "lost": sum(m["lost"] for m in measured),
            }
            if args.before:
                summary["before_ratio_to_two"] = round(median["before_per_second"] / median["pgbench_two_per_job"], 2)
                summary["round_before_ratios_to_two"] = [m["before_ratio_to_two"] for m in measured]
            print(json.dumps(summary))


if __name__ == "__main__":
    main()
