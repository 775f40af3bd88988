-- jixiao schema, version 14 (SQLite): supervision tasks (督办事项). Must mean
-- exactly what migrations/postgres/0014_supervision.sql means.

-- One task. code is `DB-<year>-<seq>` with seq counted per year (supervision_counters).
-- source_kind: manual, red_light (source_ref `unit/month/indicator`), service_request
-- (a case number), comment (a leader comment's id). state: see
-- core::supervision::lifecycle. deadline: the deadline in force (a local date; due
-- by the end of that day); original_deadline: as assigned. requested_deadline: the
-- extension asked for while state = extension_requested. claimed_at: the standing
-- claim (cleared when returned); verified_at, evaluated_at likewise. Times are
-- RFC 3339 UTC text; deducted: 1 once the overdue deduction record was added.
CREATE TABLE supervision_tasks (
    id                 INTEGER PRIMARY KEY,
    code               TEXT NOT NULL UNIQUE,
    year               INTEGER NOT NULL,
    seq                INTEGER NOT NULL,
    title              TEXT NOT NULL,
    source_kind        TEXT NOT NULL CHECK (source_kind IN ('manual', 'red_light', 'service_request', 'comment')),
    source_ref         TEXT NOT NULL DEFAULT '',
    requirement        TEXT NOT NULL,
    outputs            TEXT NOT NULL DEFAULT '',
    priority           TEXT NOT NULL CHECK (priority IN ('normal', 'high', 'urgent')),
    state              TEXT NOT NULL CHECK (state IN ('assigned', 'in_progress', 'extension_requested', 'claimed', 'verified', 'evaluated')),
    deadline           TEXT NOT NULL,
    original_deadline  TEXT NOT NULL,
    requested_deadline TEXT,
    claimed_at         TEXT,
    verified_at        TEXT,
    evaluated_at       TEXT,
    evaluation_comment TEXT NOT NULL DEFAULT '',
    deducted           INTEGER NOT NULL DEFAULT 0 CHECK (deducted IN (0, 1)),
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1,
    UNIQUE (year, seq)
);
CREATE INDEX supervision_tasks_by_state ON supervision_tasks (state, deadline);
CREATE INDEX supervision_tasks_by_created ON supervision_tasks (created_at);

-- The units of a task: the lead unit (lead = 1, exactly one) and the co-units, each
-- with its leader in charge (分管领导) and person responsible (承办人) as names,
-- when it signed (签收), and its evaluation: grade (excellent, good, pass, fail) and
-- score 0–100.
CREATE TABLE supervision_task_units (
    task_id     INTEGER NOT NULL REFERENCES supervision_tasks (id),
    unit_id     TEXT NOT NULL REFERENCES units (id),
    lead        INTEGER NOT NULL DEFAULT 0 CHECK (lead IN (0, 1)),
    leader_name TEXT NOT NULL DEFAULT '',
    person_name TEXT NOT NULL DEFAULT '',
    signed_at   TEXT,
    grade       TEXT CHECK (grade IN ('excellent', 'good', 'pass', 'fail')),
    score       REAL CHECK (score BETWEEN 0 AND 100),
    sort_order  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, unit_id)
);
CREATE INDEX supervision_task_units_by_unit ON supervision_task_units (unit_id);

-- The history of a task: every step with who took it, the state before and after,
-- the unit acting (if a unit's step), its text, and what else it carried as JSON
-- (a requested deadline, evaluations, an evidence file).
CREATE TABLE supervision_task_events (
    id         INTEGER PRIMARY KEY,
    task_id    INTEGER NOT NULL REFERENCES supervision_tasks (id),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    step       TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    unit_id    TEXT,
    text       TEXT NOT NULL DEFAULT '',
    data_json  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX supervision_task_events_by_task ON supervision_task_events (task_id, id);

-- The last task sequence given out per year; incremented in the creating transaction.
CREATE TABLE supervision_counters (
    year     INTEGER PRIMARY KEY,
    last_seq INTEGER NOT NULL
);
