-- jixiao schema, version 15 (SQLite): records registered in the browser and bonus
-- applications (加减分记录 / 加分申报).
-- Must mean exactly what migrations/postgres/0015_plans_records.sql means.
-- Depends only on versions 1-12 (13 and 14 belong to other features).

-- A record registered by the office or a functional department, or made by approving
-- an application. The scored record itself stays in `records` under the key
-- derived from it (as an import derives it); this row holds what scoring does not read — the topic (专题), the
-- reason, the person responsible (责任人) — and outlives a cancellation: a cancelled
-- registration deletes its scored record and keeps `cancel_reason` here.
-- `version` guards edits (optimistic locking, a stale form is a conflict).
CREATE TABLE registered_records (
    id              INTEGER PRIMARY KEY,
    year            INTEGER NOT NULL,
    record_key      TEXT NOT NULL,
    unit_id         TEXT NOT NULL REFERENCES units (id),
    indicator_id    TEXT NOT NULL,
    date            TEXT NOT NULL,
    points          REAL NOT NULL,
    topic           TEXT NOT NULL CHECK (topic IN ('innovation', 'research', 'commendation', 'guidance', 'discipline', 'other')),
    reason          TEXT NOT NULL,
    responsible     TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL CHECK (state IN ('active', 'cancelled')),
    cancel_reason   TEXT NOT NULL DEFAULT '',
    application_id  INTEGER,
    version         INTEGER NOT NULL DEFAULT 1,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_by      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (year, record_key)
);
CREATE INDEX registered_records_by_unit ON registered_records (year, unit_id, date);

-- A unit's application for a bonus (加分申报): the category and the indicator (rule)
-- it claims, the points claimed and what they rest on. The office approves (with
-- points up to the claim: partial approval) — which registers a record, `record_id`
-- — or rejects with a reason.
CREATE TABLE bonus_applications (
    id              INTEGER PRIMARY KEY,
    year            INTEGER NOT NULL,
    unit_id         TEXT NOT NULL REFERENCES units (id),
    category        TEXT NOT NULL CHECK (category IN ('innovation', 'research', 'commendation', 'guidance')),
    indicator_id    TEXT NOT NULL,
    date            TEXT NOT NULL,
    title           TEXT NOT NULL,
    basis           TEXT NOT NULL,
    claimed_points  REAL NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('submitted', 'approved', 'rejected')),
    approved_points REAL,
    decision_note   TEXT NOT NULL DEFAULT '',
    record_id       INTEGER REFERENCES registered_records (id),
    version         INTEGER NOT NULL DEFAULT 1,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    decided_by      TEXT,
    decided_at      TEXT
);
CREATE INDEX bonus_applications_by_unit ON bonus_applications (year, unit_id);
