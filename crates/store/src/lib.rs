//! jixiao-store: the database of jixiao (绩效).
//!
//! One code path for SQLite (embedded, the default) and PostgreSQL (several servers
//! sharing one database): every query goes through `sqlx::AnyPool` with `$1, $2`
//! placeholders, and the schema sticks to what the Any driver carries (integers,
//! doubles, text, bytes). The modules:
//!
//! - `connect` — opening a database, schema version checks, migrations;
//! - `tx` — `WriteTx`, the only way to write, which carries the audit entry and
//!   rescores what the change reaches before it commits;
//! - `refresh`, `stamp` — stored scores kept equal to a recompute of the committed data,
//!   with the stamp of the data they reflect, and their repair;
//! - `audit` — the MAC-chained audit log and its verification; `anchor` — the chain's
//!   head kept in a file outside the database; `keys` — the key file and the keys
//!   derived from it (never in the database);
//! - `org`, `users`, `sessions`, `schemes`, `data`, `scores`, `bulletins`, `settings`, `outbox`, `service`, `jobs`, `captchas`,
//!   `supervision` (service: public service requests and Open311 keys; supervision: 督办事项) — repositories: reads are
//!   `async fn`s on `Store`, writes take `&mut WriteTx`;
//! - `maintenance` — backups.
//!
//! Invariants: every change is one transaction with its audit entry (the one exception,
//! computed scores, is documented in `scores`); stored scores equal a recompute of the
//! committed data, also after a crash, because they commit with the data; organisation rows are disabled, never
//! deleted; timestamps are RFC 3339 text in UTC; concurrent edits of an entry are
//! detected by its version column, never silently overwritten.

#![forbid(unsafe_code)]

mod anchor;
mod archive;
mod attachments;
mod audit;
mod bulletins;
mod captchas;
mod connect;
mod corrections;
mod data;
mod drafts;
mod error;
mod jobs;
mod keys;
mod maintenance;
mod org;
mod outbox;
mod refresh;
mod register;
mod schemes;
mod scores;
mod service;
mod sessions;
mod settings;
mod stamp;
mod supervision;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;
mod users;

use std::fmt;

use sqlx::AnyPool;

pub use anchor::Anchor;
pub use archive::{check_archive, write_archive};
pub use attachments::Attachment;
pub use audit::{
    AuditEntry, AuditFilter, AuditReport, BrokenLink, BrokenReason, EntryCheck, EntryFields, GENESIS_HASH, HashAlgorithm,
    canonical_encoding, entry_hash, entry_mac, stored_name,
};
pub use bulletins::{
    Bulletin, BulletinContent, BulletinState, ContentGroup, ContentNode, ContentUnit, ISSUER_SETTING, LedgerRow, UnitResult, parse_period,
};
pub use connect::{SCHEMA_VERSION, StoreOptions, redact_url};
pub use corrections::Correction;
pub use data::{ImportSummary, RecordWrite, StoredEntry, StoredRecord};
pub use drafts::SchemeDraft;
pub use error::{Result, StoreError};
pub use keys::{Keys, hmac_sha256, hmac_sm3, is_sealed};
pub use org::{Group, Unit};
pub use outbox::{Message, NewMessage, SmsCap, phone_key};
pub use register::{BonusApplication, NewApplication, RecordFields, RegisteredRecord};
pub use schemes::{PeriodRow, PeriodState, SchemeVersion, SchemeVersionInfo};
pub use scores::ScoreRow;
pub use service::{
    NewServiceEvent, NewServiceRequest, Open311Key, RequestFilter, ServiceAttribute, ServiceCategory, ServiceEvent, ServiceRequest,
};
pub use sessions::{ApiToken, Session};
pub use supervision::{NewSupervisionTask, NewTaskEvent, SupervisionTask, TaskEvent, TaskUnitRow};
pub use tx::{Receipt, WriteTx};
pub use users::{LoginClaim, NewUser, RoleGrant, User, check_secret, hash_password};

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The aggregate that joins text with a separator: `group_concat` in SQLite,
    /// `string_agg` in PostgreSQL (same arguments) — the one spelling the two SQL
    /// dialects need apart in queries. Reading thousands of small rows through sqlx
    /// costs about 14 µs a row; joined into one text, a year's entries read in a
    /// fraction of that (see `rows_joined`).
    pub(crate) fn join_text(self) -> &'static str {
        match self {
            Backend::Sqlite => "group_concat",
            Backend::Postgres => "string_agg",
        }
    }
}

/// Separators of `rows_joined`: ASCII record and unit separators, which neither ids
/// (checked on the way in) nor JSON text (control characters are escaped) contain.
pub(crate) const ROW_SEP: &str = "\u{1e}";
pub(crate) const FIELD_SEP: &str = "\u{1f}";

/// A parameter of `rows_joined`.
pub(crate) enum Param<'a> {
    Int(i32),
    Text(&'a str),
}

/// Runs `sql` — a `SELECT {join}(a || $1 || b || …, $2) FROM …` whose other
/// parameters, numbered from `$3`, are `params` — on `conn` and splits its one text
/// back into rows of `fields` fields. `None` when a row does not split into that many
/// fields (the caller then reads row by row).
pub(crate) async fn rows_joined(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    sql: &str,
    fields: usize,
    params: &[Param<'_>],
) -> Result<Option<Vec<Vec<String>>>> {
    let sql = sql.replace("{join}", backend.join_text());
    let mut query = sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql)).bind(FIELD_SEP).bind(ROW_SEP);
    for p in params {
        query = match p {
            Param::Int(i) => query.bind(*i),
            Param::Text(t) => query.bind(t.to_string()),
        };
    }
    let Some(joined) = query.fetch_one(&mut *conn).await? else { return Ok(Some(Vec::new())) };
    let mut rows = Vec::new();
    for row in joined.split(ROW_SEP) {
        let cells: Vec<String> = row.split(FIELD_SEP).map(str::to_string).collect();
        if cells.len() != fields {
            return Ok(None);
        }
        rows.push(cells);
    }
    Ok(Some(rows))
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// A handle on the database: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    algorithm: HashAlgorithm,
    /// The keys from the key file (`keys`); `None` only for stores opened without one.
    keys: Option<std::sync::Arc<keys::Keys>>,
    /// Where the audit chain's head is recorded (`anchor`).
    anchor: Option<std::sync::Arc<anchor::Anchor>>,
    /// The URL without password, for messages.
    url: String,
    /// Each year's scores kept current in memory (`refresh`).
    boards: std::sync::Arc<refresh::Boards>,
    /// Where "now" comes from: the system clock, or the application's clock.
    now: Now,
}

/// A source of the current time (the application hands its clock in, so that tests
/// can fix the date every timestamp is written with).
pub type Now = std::sync::Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).field("url", &self.url).finish()
    }
}

impl Store {
    fn from_parts(pool: AnyPool, backend: Backend, options: &StoreOptions, url: String) -> Store {
        Store {
            pool,
            backend,
            algorithm: options.hash_algorithm,
            keys: options.keys.clone().map(std::sync::Arc::new),
            anchor: options.anchor.clone().map(|p| std::sync::Arc::new(anchor::Anchor::new(p))),
            url,
            boards: Default::default(),
            now: std::sync::Arc::new(chrono::Utc::now),
        }
    }

    /// The same store with the key file's keys (opened before the keys were read).
    pub fn with_keys(mut self, keys: keys::Keys) -> Store {
        self.keys = Some(std::sync::Arc::new(keys));
        self
    }

    /// The keys of the key file, if the store was opened with them.
    pub fn keys(&self) -> Option<&keys::Keys> {
        self.keys.as_deref()
    }

    /// The anchor file of the audit chain, if any.
    pub fn anchor(&self) -> Option<&anchor::Anchor> {
        self.anchor.as_deref()
    }

    /// The same store, taking "now" from `now` for every timestamp it writes.
    pub fn with_clock(mut self, now: Now) -> Store {
        self.now = now;
        self
    }

    /// Now, as stored (see `timestamp`).
    pub fn now(&self) -> String {
        timestamp((self.now)())
    }

    /// SQLite or PostgreSQL.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The hash function used for new audit entries.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The same store, hashing new audit entries with `algorithm`.
    pub fn with_hash_algorithm(mut self, algorithm: HashAlgorithm) -> Store {
        self.algorithm = algorithm;
        self
    }

    /// The database URL without any password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The connection pool, for this crate's repositories and for tests that need raw
    /// SQL. Writing through it bypasses the audit log: application code must use
    /// `begin`.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection; waits for those in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now by the system clock, as stored: for the computed scores' own bookkeeping
/// (`computed_at`), which no rule reads.
pub(crate) fn now() -> String {
    timestamp(chrono::Utc::now())
}

/// A time as stored: RFC 3339 in UTC with microseconds, so text order is time order. Callers that compare with
/// stored times (expiries, filters) format them with this.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Booleans are INTEGER 0/1 in both schemas (see the migrations).
pub(crate) fn flag(b: bool) -> i32 {
    i32::from(b)
}
