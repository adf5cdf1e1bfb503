-- arun schema, version 2: views that answer the usual questions about runs, and the
-- durations `arun durations import` stores. docs/queries.md shows them in use.
--
-- A test's attempts are its rows in `results` (attempt 1, 2, … when failing tests are
-- run again); its final outcome is its highest attempt.

-- The final attempt of every test of every run, with the test's node id and file.
-- Filter by run_id: `SELECT nodeid, outcome FROM latest_results WHERE run_id = 3`.
-- Tests without any result (not reached yet) are not here; see `pending_tests`.
CREATE VIEW latest_results AS
SELECT r.run_id, r.test_id, t.nodeid, t.file, r.attempt, r.outcome, r.duration, r.job_id, r.worker,
       r.started_at, r.finished_at, r.message, r.details, r.stdout, r.stderr, r.extra
FROM results r
JOIN tests t ON t.id = r.test_id
WHERE r.attempt = (SELECT MAX(x.attempt) FROM results x WHERE x.run_id = r.run_id AND x.test_id = r.test_id);

-- Tests whose final attempt passed after an earlier attempt failed (failed, error,
-- crashed, timeout): flaky. `failed_attempts` counts the failing ones.
CREATE VIEW flaky_tests AS
SELECT l.run_id, l.test_id, l.nodeid, l.attempt AS attempts, l.duration,
       (SELECT COUNT(*) FROM results e
        WHERE e.run_id = l.run_id AND e.test_id = l.test_id
          AND e.outcome IN ('failed', 'error', 'crashed', 'timeout')) AS failed_attempts
FROM latest_results l
WHERE l.outcome = 'passed'
  AND EXISTS (SELECT 1 FROM results e
              WHERE e.run_id = l.run_id AND e.test_id = l.test_id AND e.attempt < l.attempt
                AND e.outcome IN ('failed', 'error', 'crashed', 'timeout'));

-- Tests a run holds that have no result yet (an interrupted or unfinished run).
CREATE VIEW pending_tests AS
SELECT t.run_id, t.id AS test_id, t.nodeid, t.file
FROM tests t
WHERE NOT EXISTS (SELECT 1 FROM results r WHERE r.run_id = t.run_id AND r.test_id = t.id);

-- How many tests of each run ended in each outcome (one row per run and outcome).
CREATE VIEW run_totals AS
SELECT run_id, outcome, COUNT(*) AS tests, SUM(duration) AS seconds
FROM latest_results
GROUP BY run_id, outcome;

-- Per run and worker: jobs finished, seconds inside them (claim to completion, pytest
-- start-up included), and the first claim and last completion.
CREATE VIEW worker_busy AS
SELECT run_id, lease_owner AS worker, COUNT(*) AS jobs,
       SUM(finished_at - started_at) AS busy_seconds,
       MIN(started_at) AS first_started, MAX(finished_at) AS last_finished
FROM jobs
WHERE lease_owner IS NOT NULL AND started_at IS NOT NULL AND finished_at IS NOT NULL
GROUP BY run_id, lease_owner;

-- Durations imported from a pytest-split `.test_durations` file (`arun durations
-- import FILE`): the planner balances tests no recent run has measured by these.
CREATE TABLE imported_durations (
    nodeid      TEXT    PRIMARY KEY,
    seconds     REAL    NOT NULL CHECK (seconds >= 0),
    imported_at REAL    NOT NULL
) WITHOUT ROWID;
