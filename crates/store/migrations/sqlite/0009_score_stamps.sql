-- jixiao schema, version 9 (SQLite): the stamp of the data the stored scores reflect.
-- Must mean exactly what migrations/postgres/0009_score_stamps.sql means.

-- One row per year: the scheme version the year's current scores (the `scores` rows
-- of that version) were computed with, and the stamp of the accepted data they were
-- computed from (src/stamp.rs says what it holds). It is written in the transaction
-- that writes those rows, so the two never disagree; a year whose data stamp differs
-- from this one (or that has no row, as every year of a database older than this
-- migration) has stored scores that may be stale, and `repair_stale_scores` rescores
-- it.
CREATE TABLE score_stamps (
    year            INTEGER PRIMARY KEY,
    scheme_version  INTEGER NOT NULL,
    stamp           TEXT NOT NULL,
    computed_at     TEXT NOT NULL
);

-- The data stamp is read by every commit that changes scored data: these keep it to
-- an index-only scan (count, version sum and latest change of a year's accepted
-- entries), and let a rescore find the entries changed since the latest it holds
-- without reading the year's other rows.
CREATE INDEX entries_stamp ON entries (year, state, version, updated_at);
CREATE INDEX entries_by_change ON entries (year, updated_at);
