-- jixiao schema, version 10 (SQLite): stable keys of records, and their versions.
-- Must mean exactly what migrations/postgres/0010_record_keys.sql means.

-- A record (积分记录) is identified within its year by its key: given in the data file,
-- or derived from what the record says (SHA-256 of a canonical text, see
-- jixiao_core::data::keys). Importing a record whose key is stored replaces that
-- record instead of adding a copy. SQL cannot compute the derived key the same way on
-- both databases (SQLite has no SHA-256), so this migration gives every existing
-- record the placeholder 'legacy:<id>', unique and never a derived key, and
-- Store::migrate replaces the placeholders with derived keys right after, in Rust
-- (occurrences counted in id order, so exact duplicates already stored stay, as
-- occurrence 1, 2, …). A database left with placeholders (the process stopped in
-- between) still works; the next `jixiao migrate` finishes the job.
--
-- version, updated_by and updated_at change when an import replaces a record with
-- different content (created_* keep who added it first); the scores' data stamp
-- counts them, so a replaced record is rescored like a changed entry.
ALTER TABLE records ADD COLUMN record_key TEXT NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE records ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
UPDATE records SET record_key = 'legacy:' || CAST(id AS TEXT), updated_by = created_by, updated_at = created_at;
CREATE UNIQUE INDEX records_by_key ON records (year, record_key);
