-- arun schema, version 1.
-- Times are Unix seconds (REAL). JSON columns hold arrays or objects as text.

-- One invocation of a suite: what was asked, and how it ended.
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    name            TEXT,
    created_at      REAL    NOT NULL,
    started_at      REAL,
    finished_at     REAL,
    status          TEXT    NOT NULL DEFAULT 'planned'
                    CHECK (status IN ('planned', 'running', 'complete', 'interrupted', 'cancelled')),
    directory       TEXT    NOT NULL DEFAULT '',   -- working directory pytest runs in
    paths           TEXT    NOT NULL DEFAULT '[]', -- JSON: paths given to pytest
    pytest_args     TEXT    NOT NULL DEFAULT '[]', -- JSON: arguments passed to every pytest
    settings        TEXT    NOT NULL DEFAULT '{}'  -- JSON: planner mode, shard, workers, …
);

-- A unit of work: a group of tests run as one pytest session.
CREATE TABLE jobs (
    id                  INTEGER PRIMARY KEY,
    run_id              INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    state               TEXT    NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'done', 'failed', 'dead', 'cancelled')),
    attempt             INTEGER NOT NULL DEFAULT 1,
    max_attempts        INTEGER NOT NULL DEFAULT 3,
    estimated_seconds   REAL    NOT NULL DEFAULT 0,
    available_at        REAL    NOT NULL DEFAULT 0,  -- not claimable before (retry backoff)
    lease_owner         TEXT,
    lease_expires_at    REAL,
    started_at          REAL,
    finished_at         REAL,
    payload             TEXT    NOT NULL DEFAULT '',  -- opaque to the queue
    error               TEXT
);

-- The claim reads this index in order: longest estimated job first, then oldest.
-- It must match the claim's ORDER BY exactly, or SQLite sorts in a temp B-tree.
CREATE INDEX jobs_claimable ON jobs (run_id, estimated_seconds DESC, id) WHERE state = 'queued';
-- Deliberately no index that contains `state` or `lease_expires_at` beyond the one above:
-- every claim and completion would rewrite it (measured: fewer indexes, fewer WAL pages per
-- claim). Reclaim and counts scan a run's jobs, which number in the thousands at most.
CREATE INDEX jobs_by_run ON jobs (run_id);

-- Every test a run knows of.
CREATE TABLE tests (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    nodeid      TEXT    NOT NULL,
    file        TEXT    NOT NULL DEFAULT '',
    marks       TEXT    NOT NULL DEFAULT '[]',  -- JSON array of mark names
    UNIQUE (run_id, nodeid)
);
CREATE INDEX tests_by_nodeid ON tests (nodeid);

-- Which tests a job runs, in order.
CREATE TABLE job_tests (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    test_id     INTEGER NOT NULL REFERENCES tests(id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL DEFAULT 1,  -- the test attempt this job records
    PRIMARY KEY (job_id, position)
) WITHOUT ROWID;
CREATE INDEX job_tests_by_test ON job_tests (test_id);

-- One outcome of one attempt of one test.
CREATE TABLE results (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    test_id     INTEGER NOT NULL REFERENCES tests(id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    outcome     TEXT    NOT NULL
                CHECK (outcome IN ('passed', 'failed', 'error', 'skipped', 'xfailed', 'xpassed',
                                   'crashed', 'timeout', 'not_run')),
    duration    REAL    NOT NULL DEFAULT 0,
    job_id      INTEGER,
    worker      TEXT,
    started_at  REAL,
    finished_at REAL,
    message     TEXT,   -- one line: the assertion or crash message
    details     TEXT,   -- traceback excerpt
    stdout      TEXT,   -- bounded captured output
    stderr      TEXT,
    extra       TEXT,   -- JSON: subtests, teardown errors, …
    PRIMARY KEY (run_id, test_id, attempt)
) WITHOUT ROWID;

-- Errors met while collecting a run's tests.
CREATE TABLE collection_errors (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    location    TEXT    NOT NULL,
    message     TEXT    NOT NULL
);

-- Worker processes or tasks, with their last sign of life.
CREATE TABLE workers (
    id              TEXT    PRIMARY KEY,
    run_id          INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    host            TEXT    NOT NULL DEFAULT '',
    pid             INTEGER NOT NULL DEFAULT 0,
    started_at      REAL    NOT NULL,
    heartbeat_at    REAL    NOT NULL,
    stopped_at      REAL
);
