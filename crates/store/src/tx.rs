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
//!
//! Stored scores are part of the committed work. A repository function that changes
//! accepted data (an entry accepted or no longer accepted, an import, a record, a new
//! scheme version) marks the transaction with the year and the earliest month it
//! touches (`rescore_from`); `commit` then brings the stored scores of those periods
//! up to date on the transaction's own connection — seeing its uncommitted writes —
//! and writes them, with the year's data stamp, before it commits (`refresh`). So the
//! data and the scores computed from it are stored together or not at all, and a
//! process killed at any moment leaves stored scores that equal a recompute of the
//! committed data. On PostgreSQL the rescore of a year first takes a transaction-level
//! advisory lock on the year, so two writers never interleave their score writes; it
//! is taken after the transaction's own writes and before the audit lock, in year
//! order, so locks are always taken in one order.

use std::ops::RangeInclusive;

use serde_json::Value;
use sqlx::{Any, AnyConnection};

use crate::audit::{self, HashAlgorithm};
use crate::error::{Result, StoreError};
use crate::refresh::Board;
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
    /// The store: its clock, for the audit entries' time; its in-memory boards, for
    /// rescoring at commit.
    store: Store,
    /// (year, earliest month) whose stored scores this transaction's changes reach.
    rescore: Vec<(i32, u8)>,
    /// Boards advanced by this transaction's rescore, put back for others to use only
    /// once it has committed: a board that saw uncommitted data is dropped with the
    /// transaction if it rolls back, fails or is abandoned.
    boards: Vec<(i32, Board)>,
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx")
            .field("actor", &self.actor)
            .field("backend", &self.backend)
            .field("pending_audit", &self.pending.len())
            .field("rescore", &self.rescore)
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
            store: self.clone(),
            rescore: Vec::new(),
            boards: Vec::new(),
        })
    }
}

impl WriteTx {
    /// Now, by the store's clock, as stored.
    pub fn now(&self) -> String {
        self.store.now()
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

    /// Notes that this transaction changes accepted data of `year` in month `month`
    /// (1–12) or changes what scores it (a scheme version: month 1), so that `commit`
    /// rescores the periods ending in that month or later.
    pub(crate) fn rescore_from(&mut self, year: i32, month: u8) {
        match self.rescore.iter_mut().find(|(y, _)| *y == year) {
            Some((_, first)) => *first = (*first).min(month),
            None => self.rescore.push((year, month)),
        }
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

    /// Brings the stored scores of the periods this transaction's changes reach up to
    /// date (in the transaction), appends the audit entries and commits. Refuses (and
    /// rolls back) if `audit` was never called; if the year's data no longer fits its
    /// scheme (a new version that drops an indicator with data), fails naming the rows
    /// and commits nothing.
    pub async fn commit(mut self) -> Result<Receipt> {
        if self.pending.is_empty() {
            self.tx.rollback().await.ok();
            return Err(StoreError::NotAudited);
        }
        let mut marks = std::mem::take(&mut self.rescore);
        marks.sort_unstable();
        for (year, from) in marks {
            crate::refresh::lock_year(&mut self.tx, self.backend, year).await?;
            let kept = self.store.take_board(year);
            let done = self.store.rescore_on(&mut self.tx, year, from, kept).await?;
            if let Some(board) = done.board {
                self.boards.push((year, board));
            }
        }
        if self.backend == Backend::Postgres {
            sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE").execute(&mut *self.tx).await?;
        }
        let key = self.store.keys().map(|k| k.audit().to_vec());
        let (seqs, head) =
            audit::append(&mut self.tx, self.algorithm, key.as_deref(), &self.pending, &self.actor, &self.store.now()).await?;
        let advance = match self.store.anchor() {
            Some(anchor) => audit::extends_anchor(&mut self.tx, anchor, *seqs.end()).await,
            None => false,
        };
        self.tx.commit().await?;
        // Committed: the anchor may now record the new head (see `anchor`). Failing to
        // write it leaves the anchor behind, which verification tolerates; say so.
        if advance
            && let Some(anchor) = self.store.anchor()
            && let Err(e) = anchor.advance(*seqs.end(), &head)
        {
            tracing::error!(error = %e, "the audit anchor could not be advanced");
        }
        for (year, board) in std::mem::take(&mut self.boards) {
            self.store.keep_board(year, board);
        }
        Ok(Receipt { audit_seqs: seqs })
    }

    /// Abandons every change. Dropping the `WriteTx` does the same.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}
