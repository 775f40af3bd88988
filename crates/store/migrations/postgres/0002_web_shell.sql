-- jixiao schema, version 2 (PostgreSQL): what the web shell needs.
-- Must mean exactly what migrations/sqlite/0002_web_shell.sql means.

-- An administrator's password reset makes the user choose a new password at the
-- next login.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));

-- The audit viewer filters by actor and time.
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_by_at ON audit_log (at);

-- Dashboards count a month's reports of every unit.
CREATE INDEX entries_by_month ON entries (year, month);
