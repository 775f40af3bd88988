-- jixiao schema, version 5 (SQLite): the outbox of messages (SMS, e-mail).
-- Must mean exactly what migrations/postgres/0005_outbox.sql means.

-- Every message the system sends is first written here, in the transaction of what
-- caused it, and stays here with its status: a sender delivers pending messages and
-- records the outcome, so nothing is lost while a gateway is down.
-- recipient: a phone number, an e-mail address, or `user:<username>` for a user
-- whose address the sender looks up. dedupe_key: a message queued twice with the
-- same key is kept once (e.g. one reminder per unit, user and day).
-- status: pending (to send), sent, failed (gave up after retries), recorded (no
-- gateway configured: written to the log only).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    dedupe_key      TEXT UNIQUE,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'recorded')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_purpose ON outbox (purpose, created_at);
