-- arun schema for PostgreSQL, version 2: SQLite's 0003 (captured sections) and 0004
-- (live progress).
-- `results.seq` numbers results in write order from one sequence (a result written
-- again gets a new number): live progress reads only what is newer than what it saw.
ALTER TABLE results ADD COLUMN sections text;
CREATE SEQUENCE results_seq;
ALTER TABLE results ADD COLUMN seq bigint;
CREATE INDEX results_by_seq ON results (run_id, seq);
CREATE INDEX results_failing ON results (run_id) WHERE outcome IN ('failed', 'error', 'crashed', 'timeout');
ALTER TABLE runs ADD COLUMN active_seconds double precision NOT NULL DEFAULT 0;

DROP VIEW run_totals;
DROP VIEW flaky_tests;
DROP VIEW latest_results;
CREATE VIEW latest_results AS
SELECT r.run_id, r.test_id, t.nodeid, t.file, r.attempt, r.outcome, r.duration, r.job_id, r.worker,
       r.started_at, r.finished_at, r.message, r.details, r.stdout, r.stderr, r.extra, r.sections
FROM results r
JOIN tests t ON t.id = r.test_id
WHERE r.attempt = (SELECT MAX(x.attempt) FROM results x WHERE x.run_id = r.run_id AND x.test_id = r.test_id);
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
CREATE VIEW run_totals AS
SELECT run_id, outcome, COUNT(*) AS tests, SUM(duration) AS seconds
FROM latest_results
GROUP BY run_id, outcome;
