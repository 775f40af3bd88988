//! The organisation: assessment groups (考核类别, e.g. 区直部门, 街道) and the units
//! (单位) in them.
//!
//! Rows are created or renamed by upsert and switched off by `disabled`, never deleted:
//! schemes, entries, scores and audit entries of past years keep referring to them.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx, flag};

/// An assessment group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub disabled: bool,
    pub created_at: String,
}

/// A unit under assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub group_id: String,
    pub disabled: bool,
    /// Display order within lists.
    pub sort_order: i64,
    pub created_at: String,
}

fn group_from_row(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

fn unit_from_row(row: &AnyRow) -> Result<Unit> {
    Ok(Unit {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        group_id: row.try_get("group_id")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        sort_order: row.try_get("sort_order")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) fn check_id(kind: &str, id: &str) -> Result<()> {
    if id.trim().is_empty() || id.trim() != id || id.contains('\0') {
        return Err(StoreError::invalid(format!("{kind} id `{id}` is not valid: it must be non-empty, without surrounding spaces")));
    }
    Ok(())
}

impl Store {
    /// Creates a group or renames it. Does not change `disabled`.
    pub async fn upsert_group(&self, tx: &mut WriteTx, id: &str, name: &str) -> Result<()> {
        check_id("group", id)?;
        sqlx::query(
            "INSERT INTO groups (id, name, disabled, created_at) VALUES ($1, $2, 0, $3) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        )
        .bind(id)
        .bind(name)
        .bind(self.now())
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Disables (or re-enables) a group.
    pub async fn set_group_disabled(&self, tx: &mut WriteTx, id: &str, disabled: bool) -> Result<()> {
        let done = sqlx::query("UPDATE groups SET disabled = $1 WHERE id = $2").bind(flag(disabled)).bind(id).execute(tx.conn()).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("group `{id}`")));
        }
        Ok(())
    }

    /// All groups, disabled ones included, by id.
    pub async fn groups(&self) -> Result<Vec<Group>> {
        let rows = sqlx::query("SELECT id, name, disabled, created_at FROM groups ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter().map(group_from_row).collect()
    }

    /// Creates a unit or updates its name, group and order. Does not change `disabled`.
    pub async fn upsert_unit(&self, tx: &mut WriteTx, id: &str, name: &str, group_id: &str, sort_order: i64) -> Result<()> {
        check_id("unit", id)?;
        // Checked here rather than left to the foreign key: a clear message, and a
        // failed statement would abort the whole PostgreSQL transaction.
        let group: Option<i64> = sqlx::query_scalar("SELECT 1 FROM groups WHERE id = $1").bind(group_id).fetch_optional(tx.conn()).await?;
        if group.is_none() {
            return Err(StoreError::invalid(format!("unit `{id}`: unknown group `{group_id}`")));
        }
        sqlx::query(
            "INSERT INTO units (id, name, group_id, disabled, sort_order, created_at) VALUES ($1, $2, $3, 0, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, group_id = excluded.group_id, \
             sort_order = excluded.sort_order",
        )
        .bind(id)
        .bind(name)
        .bind(group_id)
        .bind(sort_order)
        .bind(self.now())
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Disables (or re-enables) a unit.
    pub async fn set_unit_disabled(&self, tx: &mut WriteTx, id: &str, disabled: bool) -> Result<()> {
        let done = sqlx::query("UPDATE units SET disabled = $1 WHERE id = $2").bind(flag(disabled)).bind(id).execute(tx.conn()).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("unit `{id}`")));
        }
        Ok(())
    }

    /// All units, disabled ones included, in display order (then by id).
    pub async fn units(&self) -> Result<Vec<Unit>> {
        let rows = sqlx::query("SELECT id, name, group_id, disabled, sort_order, created_at FROM units ORDER BY sort_order, id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(unit_from_row).collect()
    }

    /// Fails with a clear message unless `id` is a unit, inside a write transaction
    /// (a failed foreign key would abort a whole PostgreSQL transaction).
    pub(crate) async fn unit_in(&self, tx: &mut WriteTx, id: &str) -> Result<()> {
        check_id("unit", id)?;
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM units WHERE id = $1").bind(id).fetch_optional(tx.conn()).await?;
        if found.is_none() {
            return Err(StoreError::invalid(format!("unknown unit `{id}`")));
        }
        Ok(())
    }

    /// One unit.
    pub async fn unit(&self, id: &str) -> Result<Unit> {
        let row = sqlx::query("SELECT id, name, group_id, disabled, sort_order, created_at FROM units WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("unit `{id}`")))?;
        unit_from_row(&row)
    }
}
