-- arun schema for PostgreSQL, version 3: SQLite's 0005 (which pytest process ran each
-- attempt: with `worker`, `process` names it; NULL for results recorded before).
ALTER TABLE results ADD COLUMN process integer;
