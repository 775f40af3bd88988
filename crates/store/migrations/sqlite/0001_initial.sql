-- jixiao schema, version 1 (SQLite).
--
-- Must mean exactly what migrations/postgres/0001_initial.sql means: the same tables,
-- columns, keys and constraints. Conventions shared by both backends, because every
-- query goes through sqlx's Any driver:
--   * timestamps are RFC 3339 text in UTC (`2027-03-01T08:00:00.000000Z`), which sorts
--     correctly as text;
--   * booleans are INTEGER 0/1 (the Any driver cannot decode SQLite's BOOLEAN type);
--   * JSON is TEXT, written and read by the store;
--   * doubles are REAL (PostgreSQL: DOUBLE PRECISION).
-- Organisation rows are never deleted, only disabled, so old schemes, entries and the
-- audit trail keep pointing at something.

CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at  TEXT NOT NULL
);

CREATE TABLE units (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    group_id    TEXT NOT NULL REFERENCES groups (id),
    disabled    INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    sort_order  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);
CREATE INDEX units_by_group ON units (group_id);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    -- argon2 PHC string: algorithm, parameters, salt and hash in one.
    password_hash        TEXT NOT NULL,
    unit_id              TEXT REFERENCES units (id),
    disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    language             TEXT NOT NULL DEFAULT 'zh-CN',
    created_at           TEXT NOT NULL,
    password_changed_at  TEXT NOT NULL
);

CREATE TABLE user_roles (
    user_id  INTEGER NOT NULL REFERENCES users (id),
    role     TEXT NOT NULL,
    -- JSON: which units / indicators the role covers, e.g. {"units":["u01"]} or {"all":true}.
    scope    TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (user_id, role, scope)
);

CREATE TABLE sessions (
    -- A hash of the session token: a leaked database does not leak live sessions.
    id            TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    csrf_token    TEXT NOT NULL,
    data          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       INTEGER REFERENCES users (id),
    role          TEXT NOT NULL,
    unit_id       TEXT REFERENCES units (id),
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

CREATE TABLE scheme_versions (
    year        INTEGER NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    name        TEXT NOT NULL,
    -- The scheme file as JSON (spec §2), exactly as imported.
    body        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    published   INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (year, version)
);

CREATE TABLE periods (
    year            INTEGER NOT NULL,
    period          TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed', 'locked')),
    scheme_version  INTEGER,
    closed_at       TEXT,
    PRIMARY KEY (year, period),
    FOREIGN KEY (year, scheme_version) REFERENCES scheme_versions (year, version)
);

CREATE TABLE entries (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL,
    unit_id       TEXT NOT NULL REFERENCES units (id),
    indicator_id  TEXT NOT NULL,
    month         TEXT NOT NULL,
    values_json   TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'accepted',
    -- Optimistic locking: every change adds one; a writer names the version it read.
    version       INTEGER NOT NULL DEFAULT 1,
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (year, unit_id, indicator_id, month)
);

CREATE TABLE records (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL,
    unit_id       TEXT NOT NULL REFERENCES units (id),
    indicator_id  TEXT NOT NULL,
    date          TEXT NOT NULL,
    points        REAL NOT NULL,
    note          TEXT,
    state         TEXT NOT NULL DEFAULT 'accepted',
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX records_by_year ON records (year, unit_id, indicator_id);

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    owner_type    TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    content       BLOB NOT NULL,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   TEXT NOT NULL
);
CREATE INDEX attachments_by_owner ON attachments (owner_type, owner_id);

CREATE TABLE scores (
    year            INTEGER NOT NULL,
    scheme_version  INTEGER NOT NULL,
    period          TEXT NOT NULL,
    unit_id         TEXT NOT NULL REFERENCES units (id),
    result_json     TEXT NOT NULL,
    computed_at     TEXT NOT NULL,
    PRIMARY KEY (year, scheme_version, period, unit_id),
    FOREIGN KEY (year, scheme_version) REFERENCES scheme_versions (year, version)
);

-- 处处留迹: the hash-chained, append-only log of every change (see src/audit.rs for the
-- hash). `seq` is assigned by the store, not by the database, because it is hashed.
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    before_json  TEXT,
    after_json   TEXT,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    algorithm    TEXT NOT NULL
);
CREATE INDEX audit_log_by_object ON audit_log (object_type, object_id);

-- Defence in depth: ordinary SQL cannot change or remove audit entries. Someone who can
-- drop these triggers can tamper, and the hash chain is what detects that.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
