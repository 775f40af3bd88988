-- jixiao schema, version 11 (SQLite): claims on background jobs.
-- Must mean exactly what migrations/postgres/0011_job_runs.sql means.

-- Every `jixiao serve` and `jixiao worker` process runs the background jobs; a job
-- runs in one process at a time and once per its interval (or once a day). A process
-- claims a run in one UPDATE that takes the row only when nobody holds a live claim
-- (claimed_until, a stored timestamp) and the last run started before the interval
-- began (last_started_at). The claim ends with the run (released) or, for a process
-- that died, when the lease runs out. Bookkeeping only: what a job changes is audited.
CREATE TABLE job_runs (
    name TEXT PRIMARY KEY,
    claimed_by TEXT,
    claimed_until TEXT,
    last_started_at TEXT,
    last_finished_at TEXT,
    last_outcome TEXT NOT NULL DEFAULT ''
);
