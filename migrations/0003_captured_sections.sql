-- arun schema, version 3: the captured output pytest prints under a failure.
--
-- results.sections: JSON array of [title, text] pairs, in pytest's order, such as
-- ["Captured stdout setup", "..."], ["Captured stderr call", "..."], ["Captured log call", "..."],
-- filtered as the run's --show-capture asks. Written for failed and errored tests, and for
-- every test whose output the run asked to see (-rP, -rA); at most 32 KiB per test, the end of
-- each section kept. NULL when there is nothing to show.
ALTER TABLE results ADD COLUMN sections TEXT;

-- latest_results gains the column (the other views read it by name and are unchanged).
DROP VIEW latest_results;
CREATE VIEW latest_results AS
SELECT r.run_id, r.test_id, t.nodeid, t.file, r.attempt, r.outcome, r.duration, r.job_id, r.worker,
       r.started_at, r.finished_at, r.message, r.details, r.stdout, r.stderr, r.extra, r.sections
FROM results r
JOIN tests t ON t.id = r.test_id
WHERE r.attempt = (SELECT MAX(x.attempt) FROM results x WHERE x.run_id = r.run_id AND x.test_id = r.test_id);
