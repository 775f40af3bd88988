-- jixiao schema, version 10 (PostgreSQL): limits on the public side — SMS held over
-- a number's daily cap, the daily count of SMS per number, CAPTCHA challenges.
-- Must mean exactly what migrations/sqlite/0012_public_limits.sql means.

-- A message over the daily cap of SMS to one number is kept with the status
-- `over_limit` (never sent, never retried), so the office sees it and why.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent', 'failed', 'recorded', 'over_limit'));

-- SMS queued per number and day (the site's calendar day), counted up in the
-- transaction that queues each message, so the cap holds across processes.
-- recipient_key: SHA-256 (hex) of the number's digits, not the number itself.
-- Bookkeeping of the outbox, whose messages are audited; old days are purged.
CREATE TABLE sms_daily_counts (
    recipient_key TEXT COLLATE "C" NOT NULL,
    day           TEXT COLLATE "C" NOT NULL,
    queued        BIGINT NOT NULL,
    PRIMARY KEY (recipient_key, day)
);

-- CAPTCHA challenges of the public forms: one row per form shown, taken (deleted)
-- by the one submission that answers it, right or wrong; expired rows are purged.
-- token_hash: SHA-256 (hex) of the token the form carries; answer: the text in
-- the picture (a short-lived, single-use secret of no use to anyone who can read
-- this table). Bookkeeping, not audited (like a session's last use).
CREATE TABLE captcha_challenges (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    purpose    TEXT COLLATE "C" NOT NULL,
    answer     TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX captcha_challenges_expiry ON captcha_challenges (expires_at);
