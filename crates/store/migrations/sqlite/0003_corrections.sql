-- jixiao schema, version 3 (SQLite): correction requests of closed periods.
-- Must mean exactly what migrations/postgres/0003_corrections.sql means.

-- A unit asks to change an entry of a closed month; the office approves or rejects.
-- The entry's values before the correction stay here (and in the audit trail).
CREATE TABLE corrections (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL,
    unit_id       TEXT NOT NULL REFERENCES units (id),
    indicator_id  TEXT NOT NULL,
    month         TEXT NOT NULL,
    old_json      TEXT,
    new_json      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'approved', 'rejected')),
    requested_by  TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    TEXT,
    decision_note TEXT
);
CREATE INDEX corrections_by_entry ON corrections (year, unit_id, indicator_id, month);
CREATE INDEX corrections_by_state ON corrections (state, year);
