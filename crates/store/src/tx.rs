//! `WriteTx`: the one way to change the database.
//!
//! A write transaction belongs to an actor (a username, `api:<token name>`, `system`).
//! The caller writes through repository functions that take `&mut WriteTx`, describes
//! the change with `audit`, and commits. `commit` appends the audit entries to the
//! chain inside the same transaction, so the change and its trace are stored together
//! or not at all; without an audit entry it refuses and rolls back. Dropping a
//! `WriteTx` without committing rolls back.
//!
//! Serialising writers, which keeps the chain from forking (two entries with the same
//! `prev_hash`):
//! - SQLite: the transaction starts with `BEGIN IMMEDIATE`, taking the database's write
//!   lock at once. A deferred transaction that reads first and writes later can fail
//!   with `SQLITE_BUSY` when it tries to upgrade its lock while another writer holds it;
//!   taking the lock up front makes a second writer wait (busy timeout) instead.
//! - PostgreSQL: writers run concurrently, and only the audit append is serialised:
//!   `commit` takes `LOCK TABLE audit_log IN EXCLUSIVE MODE` (readers are not blocked),
//!   then reads the head and appends. The lock is held only from there to the commit,
//!   and the next writer's read of the head comes after this commit is visible.
//!   Appending at commit rather than at `audit` keeps that window as short as possible
//!   and makes the chain's order the order in which transactions committed.

use std::ops::RangeInclusive;

use serde_json::Value;
use sqlx::{Any, AnyConnection};

use crate::audit::{self, HashAlgorithm};
use crate::error::{Result, StoreError};
use crate::{Backend, Store};

/// An audit entry waiting for `commit`.
#[derive(Debug, Clone)]
pub(crate) struct PendingAudit {
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

/// An open write transaction. See the module documentation.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, Any>,
    actor: String,
    backend: Backend,
    algorithm: HashAlgorithm,
    pending: Vec<PendingAudit>,
    /// The store's clock, for the audit entries' time.
    now: crate::Now,
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx")
            .field("actor", &self.actor)
            .field("backend", &self.backend)
            .field("pending_audit", &self.pending.len())
            .finish()
    }
}

/// What a commit appended to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The seqs of this transaction's audit entries.
    pub audit_seqs: RangeInclusive<i64>,
}

impl Store {
    /// Starts a write transaction on behalf of `actor`.
    pub async fn begin(&self, actor: &str) -> Result<WriteTx> {
        if actor.trim().is_empty() {
            return Err(StoreError::invalid("a change needs an actor (who makes it)"));
        }
        if actor.contains('\0') {
            return Err(StoreError::invalid("the actor name contains a NUL character"));
        }
        let tx = match self.backend() {
            Backend::Sqlite => self.pool().begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool().begin().await?,
        };
        Ok(WriteTx {
            tx,
            actor: actor.to_string(),
            backend: self.backend(),
            algorithm: self.hash_algorithm(),
            pending: Vec::new(),
            now: self.now.clone(),
        })
    }
}

impl WriteTx {
    /// Now, by the store's clock, as stored.
    pub fn now(&self) -> String {
        crate::timestamp((self.now)())
    }

    /// Who makes this change.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection, for repository functions.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Records what this transaction changes: `action` (e.g. `entry.update`), the object
    /// (`object_type`, `object_id`) and its state before and after (`None` for "did not
    /// exist" / "no longer exists"). Appended to the chain at `commit`.
    pub async fn audit(
        &mut self,
        action: &str,
        object_type: &str,
        object_id: &str,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Result<()> {
        for (name, text) in [("action", action), ("object_type", object_type)] {
            if text.trim().is_empty() {
                return Err(StoreError::invalid(format!("an audit entry needs a non-empty {name}")));
            }
        }
        for text in [action, object_type, object_id] {
            if text.contains('\0') {
                return Err(StoreError::invalid("an audit entry contains a NUL character"));
            }
        }
        // serde_json escapes NUL inside strings, so the JSON text is safe for PostgreSQL.
        let json = |v: Option<Value>| v.map(|v| v.to_string());
        self.pending.push(PendingAudit {
            action: action.to_string(),
            object_type: object_type.to_string(),
            object_id: object_id.to_string(),
            before_json: json(before),
            after_json: json(after),
        });
        Ok(())
    }

    /// Appends the audit entries and commits. Refuses (and rolls back) if `audit` was
    /// never called.
    pub async fn commit(mut self) -> Result<Receipt> {
        if self.pending.is_empty() {
            self.tx.rollback().await.ok();
            return Err(StoreError::NotAudited);
        }
        if self.backend == Backend::Postgres {
            sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE").execute(&mut *self.tx).await?;
        }
        let seqs = audit::append(&mut self.tx, self.algorithm, &self.pending, &self.actor, &crate::timestamp((self.now)())).await?;
        self.tx.commit().await?;
        Ok(Receipt { audit_seqs: seqs })
    }

    /// Abandons every change. Dropping the `WriteTx` does the same.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}
