//! `StoreError`, the one error type of the store.
//!
//! Variants say what went wrong in terms a caller can act on (not found, someone
//! else changed it, run `jixiao migrate`, bad input). `Database` carries the driver's
//! error for logs; it may contain SQL or server details, so the web layer maps it to a
//! generic message instead of showing it to end users.

use jixiao_core::data::DataError;

/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist, e.g. `scheme 2027 version 3`.
    #[error("not found: {what}")]
    NotFound { what: String },

    /// Optimistic locking: the caller read `expected` but the row is now at `current`
    /// (`None`: the row does not exist). Nothing was changed.
    #[error(
        "{what} was changed by someone else (you had {}, it is now {}); reload and try again",
        expected_text(*.expected),
        current_text(*.current)
    )]
    Conflict { what: String, expected: Option<i64>, current: Option<i64> },

    /// A unique name or key is taken, e.g. a username.
    #[error("{what} already exists")]
    AlreadyExists { what: String },

    /// The database cannot be reached or opened. `url` never contains a password.
    #[error("cannot reach the database at {url}: {reason}")]
    Unreachable { url: String, reason: String },

    /// The database schema is older than this binary (or empty).
    #[error(
        "the database schema is {} but this jixiao needs version {binary}: run `jixiao migrate`",
        match .database { Some(v) => format!("at version {v}"), None => "empty".to_string() }
    )]
    NeedsMigration { database: Option<i64>, binary: i64 },

    /// The database was migrated by a newer jixiao; this binary must not write to it.
    #[error(
        "the database schema is at version {database}, newer than this jixiao (version {binary}): \
         upgrade jixiao before using this database"
    )]
    SchemaTooNew { database: i64, binary: i64 },

    /// `WriteTx::commit` was called without an audit entry; the transaction was rolled
    /// back. Every change must leave a trace (处处留迹).
    #[error("a change must be recorded in the audit log before it is committed; nothing was written")]
    NotAudited,

    /// Bad input, with a message naming what is wrong and where.
    #[error("{0}")]
    Invalid(String),

    /// Bad rows of a data import, each with its position; nothing was written.
    #[error(transparent)]
    InvalidData(#[from] DataError),

    /// The operation does not exist for this backend, e.g. `backup` on PostgreSQL.
    #[error("{0}")]
    Unsupported(String),

    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    /// Any other database failure. Log it; do not show it to end users verbatim.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

fn expected_text(v: Option<i64>) -> String {
    match v {
        Some(v) => format!("version {v}"),
        None => "nothing yet".to_string(),
    }
}

fn current_text(v: Option<i64>) -> String {
    match v {
        Some(v) => format!("at version {v}"),
        None => "gone".to_string(),
    }
}

impl StoreError {
    pub(crate) fn not_found(what: impl Into<String>) -> StoreError {
        StoreError::NotFound { what: what.into() }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> StoreError {
        StoreError::Invalid(message.into())
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
