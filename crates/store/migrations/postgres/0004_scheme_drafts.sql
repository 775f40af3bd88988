-- jixiao schema, version 4 (PostgreSQL): the office's working copy of a year's scheme.
-- Must mean exactly what migrations/sqlite/0004_scheme_drafts.sql means.

-- At most one draft per year, edited step by step in the browser and saved as the
-- next version (then deleted). `revision` counts the steps, for optimistic locking:
-- a step made on an older revision is refused.
CREATE TABLE scheme_drafts (
    year          INTEGER PRIMARY KEY,
    base_version  INTEGER NOT NULL,
    body          TEXT NOT NULL,
    revision      BIGINT NOT NULL,
    updated_by    TEXT COLLATE "C" NOT NULL,
    updated_at    TEXT NOT NULL
);
