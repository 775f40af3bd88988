//! The audit chain (处处留迹): every change appends an entry to `audit_log` in the same
//! transaction as the change, and each entry carries the hash of the one before, so
//! changing, deleting, inserting or reordering entries breaks the chain and
//! `Store::verify_audit` finds where.
//!
//! # Canonical encoding
//!
//! The hash of an entry is `H(encoding)`, where `encoding` is the concatenation of
//!
//! 1. the 16 bytes `jixiao-audit-v1\n` (so the format can change without ambiguity);
//! 2. `seq` as 8 bytes, big-endian two's complement;
//! 3. the fields `at`, `actor`, `action`, `object_type`, `object_id`, `before_json`,
//!    `after_json`, `prev_hash`, in this order, each as its length in bytes (8 bytes,
//!    big-endian) followed by its UTF-8 bytes. A missing `before_json` / `after_json`
//!    (SQL NULL) is the length `0xFFFF_FFFF_FFFF_FFFF` with no bytes, so it differs from
//!    an empty text.
//!
//! Length prefixes make the encoding injective: no two different entries encode to the
//! same bytes, whatever characters the fields contain. `before_json` and `after_json`
//! are hashed exactly as stored (the JSON text the store wrote), never re-serialised.
//! `H` is SHA-256 or SM3 (GB/T 32905, 国密), chosen per store with `HashAlgorithm`
//! and recorded in each entry's `algorithm` column, so a chain can switch algorithms
//! between entries. Hashes are stored as 64 lowercase hex digits; the first entry's
//! `prev_hash` is 64 zeros and its `seq` is 1.
//!
//! # The key, and what the chain proves
//!
//! Entries are MACs, not plain hashes: `HMAC-H(key, encoding)`, with the audit key of
//! the key file (`keys`), which is never in the database; `algorithm` is then
//! `hmac-sm3` (the default, GB/T 32905 under RFC 2104 as in GM/T 0042) or
//! `hmac-sha256`. Without the key nobody can compute a valid entry, so changing,
//! forging, inserting, removing or reordering entries is found, even by someone who
//! can write the database and recompute plain hashes. Entries written before the key
//! existed (`sha256`, `sm3`: plain hashes) still verify as a prefix of the chain; a
//! plain entry after a keyed one is refused (`BrokenReason::Unkeyed`), so a tamperer
//! cannot fall back to plain hashes.
//!
//! Removing the newest entries (or all of them) leaves a valid shorter chain; the
//! anchor (`anchor`), a file outside the database holding the newest seq and MAC, is
//! what finds that (`BrokenReason::Truncated`, `BrokenReason::AnchorMismatch`). The
//! triggers in the schema stop accidental edits.
//!
//! Threat model: this protects the log against whoever can change the database but
//! neither read the key file nor rewrite the anchor file (a database administrator, a
//! stolen or restored backup, SQL injection). Whoever controls the application host
//! (its files and its memory) holds the key and can rewrite both; against that, export
//! archives (`jixiao audit export`) and the head (`Store::audit_head`) to another
//! system regularly.

use std::fmt;
use std::str::FromStr;

use sha2::Digest;
use sqlx::Row;

use crate::Store;
use crate::error::{Result, StoreError};

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN: &[u8; 16] = b"jixiao-audit-v1\n";

/// The hash function of audit entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HashAlgorithm {
    /// SHA-256 (FIPS 180-4); the default.
    #[default]
    Sha256,
    /// SM3 (GB/T 32905-2016), the Chinese national standard hash.
    Sm3,
}

/// How an entry is to be checked, by its `algorithm` column.
fn parse_stored(name: &str) -> Option<(HashAlgorithm, bool)> {
    match name.strip_prefix("hmac-") {
        Some(base) => base.parse().ok().map(|a| (a, true)),
        None => name.parse().ok().map(|a| (a, false)),
    }
}

/// The `algorithm` column of an entry written with `algorithm`, keyed or not.
pub fn stored_name(algorithm: HashAlgorithm, keyed: bool) -> String {
    if keyed { format!("hmac-{algorithm}") } else { algorithm.to_string() }
}

/// The MAC of an entry: `HMAC-H(key, canonical_encoding)` as lowercase hex.
pub fn entry_mac(algorithm: HashAlgorithm, key: &[u8], e: &EntryFields<'_>) -> String {
    let bytes = canonical_encoding(e);
    hex::encode(match algorithm {
        HashAlgorithm::Sha256 => crate::keys::hmac_sha256(key, &bytes),
        HashAlgorithm::Sm3 => crate::keys::hmac_sm3(key, &bytes),
    })
}

impl HashAlgorithm {
    /// The name stored in `audit_log.algorithm`.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sm3 => "sm3",
        }
    }

    /// 32-byte digest as 64 lowercase hex digits.
    pub fn hex_digest(self, bytes: &[u8]) -> String {
        match self {
            HashAlgorithm::Sha256 => hex::encode(sha2::Sha256::digest(bytes)),
            HashAlgorithm::Sm3 => hex::encode(sm3::Sm3::digest(bytes)),
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HashAlgorithm {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<HashAlgorithm> {
        match s {
            "sha256" => Ok(HashAlgorithm::Sha256),
            "sm3" => Ok(HashAlgorithm::Sm3),
            other => Err(StoreError::invalid(format!("unknown audit hash algorithm `{other}`: use sha256 or sm3"))),
        }
    }
}

/// One entry of the audit log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    pub algorithm: String,
}

/// What checking one entry's own MAC or hash found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryCheck {
    /// It matches its content.
    Valid,
    /// It does not: the entry was changed or forged.
    Mismatch,
    /// The `algorithm` column names nothing this binary knows.
    UnknownAlgorithm,
    /// A keyed entry, and no key to check it with.
    NoKey,
}

impl AuditEntry {
    fn fields(&self) -> EntryFields<'_> {
        EntryFields {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            action: &self.action,
            object_type: &self.object_type,
            object_id: &self.object_id,
            before_json: self.before_json.as_deref(),
            after_json: self.after_json.as_deref(),
            prev_hash: &self.prev_hash,
        }
    }

    /// Whether this entry was written with a key (`hmac-…`).
    pub fn is_keyed(&self) -> bool {
        self.algorithm.starts_with("hmac-")
    }

    /// Checks the entry's own MAC (or, for an entry from before keys, its hash) with
    /// the audit key `key`; compared in constant time.
    pub fn check(&self, key: Option<&[u8]>) -> EntryCheck {
        let Some((algorithm, keyed)) = parse_stored(&self.algorithm) else { return EntryCheck::UnknownAlgorithm };
        let expected = match (keyed, key) {
            (true, Some(key)) => entry_mac(algorithm, key, &self.fields()),
            (true, None) => return EntryCheck::NoKey,
            (false, _) => entry_hash(algorithm, &self.fields()),
        };
        if subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), self.hash.as_bytes()).into() {
            EntryCheck::Valid
        } else {
            EntryCheck::Mismatch
        }
    }
}

/// What the audit viewer filters on; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// An action (`user.add`) or its prefix before a dot (`user`).
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// RFC 3339 bounds on `at`: `from` inclusive, `until` exclusive.
    pub from: Option<String>,
    pub until: Option<String>,
}

/// The hashed fields of an entry, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct EntryFields<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub before_json: Option<&'a str>,
    pub after_json: Option<&'a str>,
    pub prev_hash: &'a str,
}

/// The canonical encoding described in the module documentation.
pub fn canonical_encoding(e: &EntryFields<'_>) -> Vec<u8> {
    let texts = [e.at, e.actor, e.action, e.object_type, e.object_id];
    let size = 16
        + 8
        + 8 * 8
        + texts.iter().map(|t| t.len()).sum::<usize>()
        + e.before_json.map_or(0, str::len)
        + e.after_json.map_or(0, str::len)
        + e.prev_hash.len();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(DOMAIN);
    out.extend_from_slice(&e.seq.to_be_bytes());
    let mut field = |text: Option<&str>| match text {
        Some(t) => {
            out.extend_from_slice(&(t.len() as u64).to_be_bytes());
            out.extend_from_slice(t.as_bytes());
        }
        None => out.extend_from_slice(&u64::MAX.to_be_bytes()),
    };
    for t in texts {
        field(Some(t));
    }
    field(e.before_json);
    field(e.after_json);
    field(Some(e.prev_hash));
    out
}

/// The hash of an entry: `H(canonical_encoding)` as lowercase hex.
pub fn entry_hash(algorithm: HashAlgorithm, e: &EntryFields<'_>) -> String {
    algorithm.hex_digest(&canonical_encoding(e))
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries in the log.
    pub entries: u64,
    /// The first entry that does not check out, if any.
    pub first_broken: Option<BrokenLink>,
    /// What the anchor file recorded (seq, MAC): `None` when the store has no anchor
    /// file or it does not exist yet.
    pub anchor: Option<(i64, String)>,
}

impl AuditReport {
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// `seq` of the first entry that fails (for `Truncated`, the first one missing).
    pub seq: i64,
    /// Its position in `seq` order, from 0.
    pub position: u64,
    pub reason: BrokenReason,
}

/// Why an entry fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokenReason {
    /// The entry is not numbered `expected`: entries before it were deleted, or an
    /// entry was inserted with a number of its own.
    SeqGap { expected: i64 },
    /// The entry's content does not match its MAC (or hash): it was changed (or
    /// forged, or swapped with another entry's content).
    HashMismatch,
    /// The entry is intact but does not follow the one before it: the one before was
    /// removed, replaced or moved.
    PrevHashMismatch,
    /// The entry names a hash algorithm this binary does not know.
    UnknownAlgorithm(String),
    /// A plain-hash entry after a keyed one: written by someone without the key.
    Unkeyed,
    /// A keyed entry, and the store was opened without the key.
    NoKey,
    /// The anchor records entries up to `anchor_seq`, and the log ends before: the
    /// newest entries (or all) were removed.
    Truncated { anchor_seq: i64 },
    /// The entry the anchor records has another MAC: the log was rewritten.
    AnchorMismatch,
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        match &self.reason {
            BrokenReason::SeqGap { expected } => {
                write!(f, "entry {seq} should be numbered {expected}: entries were deleted or inserted")
            }
            BrokenReason::HashMismatch => write!(f, "entry {seq} was changed: its content does not match its MAC"),
            BrokenReason::PrevHashMismatch => {
                write!(f, "entry {seq} does not follow the entry before it: an entry was removed, replaced or moved")
            }
            BrokenReason::UnknownAlgorithm(a) => write!(f, "entry {seq} uses an unknown hash algorithm `{a}`"),
            BrokenReason::Unkeyed => write!(f, "entry {seq} has no MAC although entries before it do: it was written without the key"),
            BrokenReason::NoKey => write!(f, "entry {seq} has a MAC and no audit key was given to check it"),
            BrokenReason::Truncated { anchor_seq } => {
                write!(f, "entries from {seq} on are missing: the anchor records entries up to {anchor_seq}")
            }
            BrokenReason::AnchorMismatch => write!(f, "entry {seq} differs from the one the anchor records: the log was rewritten"),
        }
    }
}

const COLUMNS: &str = "seq, at, actor, action, object_type, object_id, before_json, after_json, prev_hash, hash, algorithm";

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        object_type: row.try_get("object_type")?,
        object_id: row.try_get("object_id")?,
        before_json: row.try_get("before_json")?,
        after_json: row.try_get("after_json")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
        algorithm: row.try_get("algorithm")?,
    })
}

/// Rows read per query while verifying: bounded memory for any log size.
const PAGE: i64 = 2000;

impl Store {
    /// Checks every entry: numbering from 1 without gaps, each MAC (or, before keys,
    /// hash) over the entry's content, each `prev_hash` equal to the MAC before, no
    /// plain entry after a keyed one; then the anchor: the log reaches the seq it
    /// records and that entry has its MAC. Reports the first failure.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let anchor = match &self.anchor {
            Some(a) => a.read()?,
            None => None,
        };
        let key = self.keys.as_ref().map(|k| k.audit().as_slice());
        let mut entries = 0u64;
        let mut first_broken = None;
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut last_seq = 0i64;
        let mut keyed_seen = false;
        let mut anchored: Option<String> = None;
        loop {
            // Keyset pages in seq order; no transaction needed, since entries are only
            // ever appended after the ones already read.
            let after = if entries == 0 { i64::MIN } else { last_seq };
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")))
                .bind(after)
                .bind(PAGE)
                .fetch_all(self.pool())
                .await?;
            let n = rows.len();
            for row in rows {
                let entry = entry_from_row(&row)?;
                let position = entries;
                entries += 1;
                last_seq = entry.seq;
                if anchor.as_ref().is_some_and(|(s, _)| *s == entry.seq) {
                    anchored = Some(entry.hash.clone());
                }
                if first_broken.is_some() {
                    continue;
                }
                let expected_seq = i64::try_from(position).unwrap_or(i64::MAX) + 1;
                let reason = if entry.seq != expected_seq {
                    Some(BrokenReason::SeqGap { expected: expected_seq })
                } else {
                    match entry.check(key) {
                        EntryCheck::UnknownAlgorithm => Some(BrokenReason::UnknownAlgorithm(entry.algorithm.clone())),
                        _ if keyed_seen && !entry.is_keyed() => Some(BrokenReason::Unkeyed),
                        EntryCheck::NoKey => Some(BrokenReason::NoKey),
                        EntryCheck::Mismatch => Some(BrokenReason::HashMismatch),
                        EntryCheck::Valid if entry.prev_hash != prev_hash => Some(BrokenReason::PrevHashMismatch),
                        EntryCheck::Valid => None,
                    }
                };
                if let Some(reason) = reason {
                    first_broken = Some(BrokenLink { seq: entry.seq, position, reason });
                }
                keyed_seen |= entry.is_keyed();
                prev_hash = entry.hash;
            }
            if n < PAGE as usize {
                break;
            }
        }
        if first_broken.is_none()
            && let Some((anchor_seq, mac)) = &anchor
        {
            if last_seq < *anchor_seq {
                first_broken =
                    Some(BrokenLink { seq: last_seq + 1, position: entries, reason: BrokenReason::Truncated { anchor_seq: *anchor_seq } });
            } else if anchored.as_deref() != Some(mac.as_str()) {
                let position = u64::try_from(*anchor_seq - 1).unwrap_or(0);
                first_broken = Some(BrokenLink { seq: *anchor_seq, position, reason: BrokenReason::AnchorMismatch });
            }
        }
        Ok(AuditReport { entries, first_broken, anchor })
    }

    /// How many entries carry a MAC (were written with a key).
    pub async fn keyed_audit_entries(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE algorithm LIKE 'hmac-%'").fetch_one(self.pool()).await?)
    }

    /// The first and last seq of the entries at or after `from` and before `until`
    /// (RFC 3339, either open), `None` when there are none.
    pub async fn audit_seq_range(&self, from: Option<&str>, until: Option<&str>) -> Result<Option<(i64, i64)>> {
        let row =
            sqlx::query("SELECT MIN(seq) AS first, MAX(seq) AS last FROM audit_log WHERE ($1 = '' OR at >= $1) AND ($2 = '' OR at < $2)")
                .bind(from.unwrap_or(""))
                .bind(until.unwrap_or(""))
                .fetch_one(self.pool())
                .await?;
        let first: Option<i64> = row.try_get("first")?;
        let last: Option<i64> = row.try_get("last")?;
        Ok(first.zip(last))
    }

    /// The latest entry's seq and hash, to record outside the database.
    pub async fn audit_head(&self) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(self.pool()).await?;
        Ok(match row {
            Some(row) => Some((row.try_get("seq")?, row.try_get("hash")?)),
            None => None,
        })
    }

    /// Entries after `after_seq` (0 for the start), oldest first, at most `limit`.
    pub async fn audit_entries(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")))
            .bind(after_seq)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Entries matching `filter`, newest first: one page of at most `limit` after
    /// skipping `offset`, and the number of matching entries in all.
    pub async fn search_audit(&self, filter: &AuditFilter, offset: i64, limit: i64) -> Result<(Vec<AuditEntry>, i64)> {
        self.audit_query(filter, offset, limit, true).await
    }

    /// The newest `limit` entries matching `filter`, without counting them all.
    pub async fn recent_audit(&self, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>> {
        Ok(self.audit_query(filter, 0, limit, false).await?.0)
    }

    async fn audit_query(&self, filter: &AuditFilter, offset: i64, limit: i64, count: bool) -> Result<(Vec<AuditEntry>, i64)> {
        // Each `?` of a condition becomes the next `$n`, bound to the next value.
        let mut conditions: Vec<String> = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let mut condition = |sql: &str, values: Vec<String>| {
            let mut text = sql.to_string();
            for value in values {
                binds.push(value);
                text = text.replacen('?', &format!("${}", binds.len()), 1);
            }
            conditions.push(text);
        };
        if let Some(v) = &filter.actor {
            condition("actor = ?", vec![v.clone()]);
        }
        if let Some(v) = &filter.action {
            // The action itself, or a prefix: `user` finds `user.add`, `user.passwd`…
            let prefix = format!("{v}.");
            let n = prefix.chars().count();
            condition(&format!("(action = ? OR substr(action, 1, {n}) = ?)"), vec![v.clone(), prefix]);
        }
        if let Some(v) = &filter.object_type {
            condition("object_type = ?", vec![v.clone()]);
        }
        if let Some(v) = &filter.object_id {
            condition("object_id = ?", vec![v.clone()]);
        }
        if let Some(v) = &filter.from {
            condition("at >= ?", vec![v.clone()]);
        }
        if let Some(v) = &filter.until {
            condition("at < ?", vec![v.clone()]);
        }
        let clause = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let total = if count {
            let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM audit_log{clause}")));
            for b in &binds {
                query = query.bind(b.clone());
            }
            query.fetch_one(self.pool()).await?
        } else {
            -1
        };
        let page_sql =
            format!("SELECT {COLUMNS} FROM audit_log{clause} ORDER BY seq DESC LIMIT ${} OFFSET ${}", binds.len() + 1, binds.len() + 2);
        let mut page = sqlx::query(sqlx::AssertSqlSafe(page_sql));
        for b in &binds {
            page = page.bind(b.clone());
        }
        let rows = page.bind(limit).bind(offset).fetch_all(self.pool()).await?;
        Ok((rows.iter().map(entry_from_row).collect::<Result<_>>()?, total))
    }

    /// When each entry of `year`'s `month` was first submitted: entry object id
    /// (`2027/u01/A1/2027-03`) → time, from the audit log's `entry.submit` entries.
    pub async fn first_submissions(&self, year: i32, month: &str) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT object_id, MIN(at) FROM audit_log WHERE object_type = 'entry' AND action = 'entry.submit' \
             AND object_id LIKE $1 GROUP BY object_id",
        )
        .bind(format!("{year}/%/{month}"))
        .fetch_all(self.pool())
        .await?)
    }

    /// The trail of one object (e.g. `entry`, `2027/u01/A1/2027-03`), oldest first.
    pub async fn audit_trail(&self, object_type: &str, object_id: &str) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE object_type = $1 AND object_id = $2 ORDER BY seq"
        )))
        .bind(object_type)
        .bind(object_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }
}

/// Whether the log, now ending at `head` in this transaction, still holds the entry
/// the anchor records: only then may the anchor move on to `head`. A log cut below
/// the anchor (or rewritten) never carries the anchor past the break, so verification
/// keeps finding it.
pub(crate) async fn extends_anchor(conn: &mut sqlx::AnyConnection, anchor: &crate::anchor::Anchor, head: i64) -> bool {
    let (seq, mac) = match anchor.read() {
        Ok(Some(recorded)) => recorded,
        Ok(None) => return true,
        Err(e) => {
            tracing::error!(error = %e, "the audit anchor cannot be read");
            return false;
        }
    };
    if seq > head {
        tracing::error!(anchor = seq, head, "the audit log ends before its anchor: entries were removed");
        return false;
    }
    let stored: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1").bind(seq).fetch_optional(&mut *conn).await.ok().flatten();
    if stored.as_deref() != Some(mac.as_str()) {
        tracing::error!(anchor = seq, "the audit log no longer holds the entry its anchor records");
        return false;
    }
    true
}

/// Appends entries after the current head. Called by `WriteTx::commit` inside its
/// transaction, after the caller's writes and with appends serialised (see `tx`).
pub(crate) async fn append(
    conn: &mut sqlx::AnyConnection,
    algorithm: HashAlgorithm,
    key: Option<&[u8]>,
    pending: &[crate::tx::PendingAudit],
    actor: &str,
    at: &str,
) -> Result<(std::ops::RangeInclusive<i64>, String)> {
    let name = stored_name(algorithm, key.is_some());
    let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *conn).await?;
    let (mut seq, mut prev_hash) = match head {
        Some(row) => (row.try_get::<i64, _>("seq")?, row.try_get::<String, _>("hash")?),
        None => (0, GENESIS_HASH.to_string()),
    };
    let first = seq + 1;
    // One timestamp per commit (`at`): the entries of one action happened together.
    for p in pending {
        seq += 1;
        let fields = EntryFields {
            seq,
            at,
            actor,
            action: &p.action,
            object_type: &p.object_type,
            object_id: &p.object_id,
            before_json: p.before_json.as_deref(),
            after_json: p.after_json.as_deref(),
            prev_hash: &prev_hash,
        };
        let hash = match key {
            Some(key) => entry_mac(algorithm, key, &fields),
            None => entry_hash(algorithm, &fields),
        };
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, before_json, after_json, \
             prev_hash, hash, algorithm) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(seq)
        .bind(at)
        .bind(actor)
        .bind(&p.action)
        .bind(&p.object_type)
        .bind(&p.object_id)
        .bind(p.before_json.as_deref())
        .bind(p.after_json.as_deref())
        .bind(&prev_hash)
        .bind(&hash)
        .bind(&name)
        .execute(&mut *conn)
        .await?;
        prev_hash = hash;
    }
    Ok((first..=seq, prev_hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(before: Option<&'a str>, after: Option<&'a str>) -> EntryFields<'a> {
        EntryFields {
            seq: 1,
            at: "2027-03-01T00:00:00.000000Z",
            actor: "admin",
            action: "create",
            object_type: "unit",
            object_id: "u01",
            before_json: before,
            after_json: after,
            prev_hash: GENESIS_HASH,
        }
    }

    #[test]
    fn known_digests() {
        // FIPS 180-2 and GB/T 32905 test vectors for "abc".
        assert_eq!(HashAlgorithm::Sha256.hex_digest(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(HashAlgorithm::Sm3.hex_digest(b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }

    #[test]
    fn encoding_is_length_prefixed() {
        let e = fields(None, Some("{}"));
        let bytes = canonical_encoding(&e);
        assert_eq!(&bytes[..16], b"jixiao-audit-v1\n");
        assert_eq!(&bytes[16..24], &[0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(&bytes[24..32], &[0, 0, 0, 0, 0, 0, 0, 27]);
        assert_eq!(&bytes[32..59], b"2027-03-01T00:00:00.000000Z");
        assert_eq!(bytes.len(), 16 + 8 + 8 * 8 + 27 + 5 + 6 + 4 + 3 + 2 + 64);
    }

    #[test]
    fn null_empty_and_shifted_fields_hash_differently() {
        let a = entry_hash(HashAlgorithm::Sha256, &fields(None, Some("")));
        let b = entry_hash(HashAlgorithm::Sha256, &fields(Some(""), None));
        let c = entry_hash(HashAlgorithm::Sha256, &fields(Some(""), Some("")));
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
        // Moving a character from one field to the next changes the hash.
        let mut x = fields(None, None);
        x.actor = "ad";
        x.action = "mincreate";
        assert_ne!(entry_hash(HashAlgorithm::Sha256, &x), entry_hash(HashAlgorithm::Sha256, &fields(None, None)));
        assert_ne!(entry_hash(HashAlgorithm::Sha256, &fields(None, None)), entry_hash(HashAlgorithm::Sm3, &fields(None, None)));
    }
}
