-- jixiao schema, version 7 (SQLite): bulletins (通报) of a period's results.
-- Must mean exactly what migrations/postgres/0007_bulletins.sql means.
-- Depends only on versions 1-5 (version 6 belongs to another feature).

-- A bulletin is numbered per year (`number`: 〔2027〕第3号) and has revisions: a
-- correction after publishing never changes a published row, it adds revision 2 of
-- the same number. `state`: draft (content computed live, office only) or published
-- (content frozen in `content_json`: the spec §8 results of the period with the
-- scheme version, the ledger of records, the indicator tree with points and
-- formulas). `public`: shown on the public front page (published rows only).
-- `note`: the reason for a revision (empty for revision 1).
CREATE TABLE bulletins (
    id              INTEGER PRIMARY KEY,
    year            INTEGER NOT NULL,
    period          TEXT NOT NULL,
    number          INTEGER NOT NULL CHECK (number >= 1),
    revision        INTEGER NOT NULL CHECK (revision >= 1),
    title           TEXT NOT NULL,
    scheme_version  INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('draft', 'published')),
    public          INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    note            TEXT NOT NULL DEFAULT '',
    content_json    TEXT,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    published_by    TEXT,
    published_at    TEXT,
    UNIQUE (year, number, revision),
    CHECK ((state = 'draft') = (content_json IS NULL)),
    CHECK (state = 'published' OR public = 0)
);
CREATE INDEX bulletins_by_period ON bulletins (year, period);
