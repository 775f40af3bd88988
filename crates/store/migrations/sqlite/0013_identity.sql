-- jixiao schema, version 13 (SQLite): identity (身份鉴别) — password history, the
-- second factor (TOTP) with its recovery codes, and logins waiting for their code.
-- Must mean exactly what migrations/postgres/0013_identity.sql means.

-- The argon2 hashes of an account's last passwords (the current one included), so a
-- new password cannot be one of the last five. Older rows are pruned on each change.
CREATE TABLE password_history (
    user_id        INTEGER NOT NULL REFERENCES users (id),
    password_hash  TEXT NOT NULL,
    set_at         TEXT NOT NULL
);
CREATE INDEX password_history_by_user ON password_history (user_id, set_at);
INSERT INTO password_history (user_id, password_hash, set_at) SELECT id, password_hash, password_changed_at FROM users;

-- The TOTP secret (RFC 6238, base32): NULL when the account has none; confirmed
-- once a code made from it was given back; the last time step accepted, so one code
-- opens at most one login.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_confirmed_at TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;

-- Recovery codes of the second factor: SHA-256 of each, usable once.
CREATE TABLE recovery_codes (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (user_id, code_hash)
);

-- A login whose password was right and that waits for its second factor: SHA-256 of
-- the browser's secret, short-lived.
CREATE TABLE pending_logins (
    id          TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    next_path   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX pending_logins_expiry ON pending_logins (expires_at);
