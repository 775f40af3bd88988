-- jixiao schema, version 10 (SQLite): limits on the public side — SMS held over a
-- number's daily cap, the daily count of SMS per number, CAPTCHA challenges.
-- Must mean exactly what migrations/postgres/0012_public_limits.sql means.

-- A message over the daily cap of SMS to one number is kept with the status
-- `over_limit` (never sent, never retried), so the office sees it and why. SQLite
-- cannot change a CHECK constraint in place: the table is rebuilt with its rows,
-- columns, ids and indexes as they were.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    dedupe_key      TEXT UNIQUE,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'recorded', 'over_limit')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    claimed_by      TEXT,
    claimed_until   TEXT
);
INSERT INTO outbox_new (id, channel, recipient, body, purpose, dedupe_key, status, attempts, next_attempt_at, last_error, created_at, sent_at, claimed_by, claimed_until)
    SELECT id, channel, recipient, body, purpose, dedupe_key, status, attempts, next_attempt_at, last_error, created_at, sent_at, claimed_by, claimed_until FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_purpose ON outbox (purpose, created_at);

-- SMS queued per number and day (the site's calendar day), counted up in the
-- transaction that queues each message, so the cap holds across processes.
-- recipient_key: SHA-256 (hex) of the number's digits, not the number itself.
-- Bookkeeping of the outbox, whose messages are audited; old days are purged.
CREATE TABLE sms_daily_counts (
    recipient_key TEXT NOT NULL,
    day           TEXT NOT NULL,
    queued        INTEGER NOT NULL,
    PRIMARY KEY (recipient_key, day)
);

-- CAPTCHA challenges of the public forms: one row per form shown, taken (deleted)
-- by the one submission that answers it, right or wrong; expired rows are purged.
-- token_hash: SHA-256 (hex) of the token the form carries; answer: the text in
-- the picture (a short-lived, single-use secret of no use to anyone who can read
-- this table). Bookkeeping, not audited (like a session's last use).
CREATE TABLE captcha_challenges (
    token_hash TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL,
    answer     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX captcha_challenges_expiry ON captcha_challenges (expires_at);
