-- jixiao schema, version 6 (SQLite): public service requests (公共服务诉求) and
-- Open311 API keys. Must mean exactly what migrations/postgres/0006_service_requests.sql means.

-- The categories a citizen chooses from (Open311 "services"): each with the
-- department it is usually dispatched to (unit_id, a suggestion) and its time limit
-- in working days (sla_days). group_name and keywords are Open311's `group` and
-- `keywords`.
CREATE TABLE service_categories (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    group_name  TEXT NOT NULL DEFAULT '',
    keywords    TEXT NOT NULL DEFAULT '',
    unit_id     TEXT REFERENCES units (id),
    sla_days    INTEGER NOT NULL CHECK (sla_days BETWEEN 1 AND 365),
    sort_order  INTEGER NOT NULL DEFAULT 0,
    disabled    INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);

-- A category's extra questions (Open311 service definition attributes).
-- datatype: string, number, datetime, text, singlevaluelist, multivaluelist.
-- values_json: a JSON array of {"key", "name"} for the list types, else '[]'.
CREATE TABLE service_attributes (
    service_code         TEXT NOT NULL REFERENCES service_categories (code),
    code                 TEXT NOT NULL,
    datatype             TEXT NOT NULL CHECK (datatype IN ('string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist')),
    required             INTEGER NOT NULL DEFAULT 0 CHECK (required IN (0, 1)),
    description          TEXT NOT NULL,
    datatype_description TEXT NOT NULL DEFAULT '',
    sort_order           INTEGER NOT NULL DEFAULT 0,
    values_json          TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (service_code, code)
);

-- One request. case_no is `QK-<year>-<seq>` with seq counted per year. channel: web
-- (the public form), phone (呼叫中心), community (社区), open311. state: see
-- core::service::lifecycle. unit_id: the department it is (or was last) with.
-- password_hash: argon2 PHC string of the query password (查询密码). token: Open311's
-- token for the request. deadline: the end of the time limit of the last dispatch.
-- Times are RFC 3339 UTC text. rating: satisfied, basic, dissatisfied (NULL: not
-- rated). redo_count: times sent back for redo (重办). escalated: times escalated.
CREATE TABLE service_requests (
    id                 INTEGER PRIMARY KEY,
    case_no            TEXT NOT NULL UNIQUE,
    year               INTEGER NOT NULL,
    seq                INTEGER NOT NULL,
    service_code       TEXT NOT NULL REFERENCES service_categories (code),
    channel            TEXT NOT NULL CHECK (channel IN ('web', 'phone', 'community', 'open311')),
    state              TEXT NOT NULL CHECK (state IN ('received', 'dispatched', 'accepted', 'rejected', 'done', 'verified', 'closed')),
    description        TEXT NOT NULL,
    address            TEXT NOT NULL DEFAULT '',
    lat                REAL,
    lon                REAL,
    phone              TEXT NOT NULL DEFAULT '',
    contact_name       TEXT NOT NULL DEFAULT '',
    attributes_json    TEXT NOT NULL DEFAULT '{}',
    password_hash      TEXT NOT NULL,
    token              TEXT NOT NULL UNIQUE,
    api_key_id         INTEGER,
    unit_id            TEXT REFERENCES units (id),
    deadline           TEXT,
    first_dispatched_at TEXT,
    dispatched_at      TEXT,
    done_at            TEXT,
    verified_at        TEXT,
    closed_at          TEXT,
    rating             TEXT CHECK (rating IN ('satisfied', 'basic', 'dissatisfied')),
    rating_comment     TEXT NOT NULL DEFAULT '',
    reply              TEXT NOT NULL DEFAULT '',
    redo_count         INTEGER NOT NULL DEFAULT 0,
    escalated          INTEGER NOT NULL DEFAULT 0,
    merged_into        TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1,
    UNIQUE (year, seq)
);
CREATE INDEX service_requests_by_state ON service_requests (state, created_at);
CREATE INDEX service_requests_by_unit ON service_requests (unit_id, state);
CREATE INDEX service_requests_by_created ON service_requests (created_at);
CREATE INDEX service_requests_by_closed ON service_requests (closed_at);

-- The history of a request: every step with who took it (a username, `citizen`,
-- `system`, `api:<key name>`), the state before and after, the department, and its
-- text. public = 1: shown to the citizen on the query page (without the actor).
CREATE TABLE service_request_events (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES service_requests (id),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    step       TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    unit_id    TEXT,
    text       TEXT NOT NULL DEFAULT '',
    public     INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1))
);
CREATE INDEX service_request_events_by_request ON service_request_events (request_id, id);

-- Open311 API keys: only the SHA-256 of the key is kept; the key is shown once.
CREATE TABLE open311_keys (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- The last case number sequence given out per year; incremented in the creating
-- transaction (an upsert), so concurrent intakes never share a number.
CREATE TABLE service_case_counters (
    year     INTEGER PRIMARY KEY,
    last_seq INTEGER NOT NULL
);
