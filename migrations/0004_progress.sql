-- arun schema, version 4: what live progress and -x/--maxfail read, at a cost that
-- does not grow with the run.
--
-- `results.seq` numbers a run's results in commit order (each write takes the run's
-- MAX(seq) + 1 under the write lock, and a result written again gets a new number):
-- a reader that has seen up to N reads only `seq > N` next time, through
-- `results_by_seq`, however many results the run already holds.
ALTER TABLE results ADD COLUMN seq INTEGER;
CREATE INDEX results_by_seq ON results (run_id, seq);

-- Failing results only: counting a run's failures for --maxfail reads these, not
-- every result.
CREATE INDEX results_failing ON results (run_id)
    WHERE outcome IN ('failed', 'error', 'crashed', 'timeout');

-- Seconds the run's invocations took (`arun run`, `--resume`, `rerun`, `arun work`),
-- each added when it ends: its wall time, without the idle gaps between them.
ALTER TABLE runs ADD COLUMN active_seconds REAL NOT NULL DEFAULT 0;
