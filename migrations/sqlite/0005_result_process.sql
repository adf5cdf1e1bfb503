-- arun schema, version 5: which pytest process ran each attempt.
--
-- A worker serves job after job in one long-lived pytest process, and starts another only
-- after a crash or a kill. `results.process` is that process's id (with `worker`, it names
-- the process): what ran before a test in its process is the results of the same worker and
-- process that started before it. Reports compare it between two runs of the same plan to
-- tell order-dependent tests from flaky ones. NULL for results recorded before version 5.
ALTER TABLE results ADD COLUMN process INTEGER;
