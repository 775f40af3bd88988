-- jixiao schema, version 8 (SQLite): claims (leases) on outbox messages.
-- Must mean exactly what migrations/postgres/0008_outbox_claims.sql means.

-- Several processes may run the SMS sender against one database. A sender first
-- claims the due messages it will try, in one UPDATE that only takes rows nobody
-- holds: claimed_by is the claiming pass's random token, claimed_until the end of
-- its lease (a stored timestamp). A message is attempted only by the holder of a
-- live claim, and recording the attempt releases it; the claim of a sender that
-- died runs out and the message is due again.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
