//! Scheme drafts (方案草稿): the office's working copy of a year's scheme, edited step
//! by step in the browser (`core::scheme::edit`) and finally saved as the year's next
//! version. A draft may be invalid between steps; versions never are.
//!
//! One draft per year. Every step names the revision it was made on, and a step on
//! an older revision is refused with [`StoreError::Conflict`], so two people editing
//! the same draft never overwrite each other's steps.

use jixiao_core::scheme::SchemeFile;
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx};

/// A year's draft.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemeDraft {
    pub year: i32,
    /// The version the draft was started from.
    pub base_version: i32,
    pub file: SchemeFile,
    /// Steps made so far; each step adds one.
    pub revision: i64,
    pub updated_by: String,
    pub updated_at: String,
}

impl Store {
    /// The year's draft, if someone is editing one.
    pub async fn scheme_draft(&self, year: i32) -> Result<Option<SchemeDraft>> {
        let row = sqlx::query("SELECT year, base_version, body, revision, updated_by, updated_at FROM scheme_drafts WHERE year = $1")
            .bind(year)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let body: String = row.try_get("body")?;
        let file = serde_json::from_str(&body)
            .map_err(|e| StoreError::invalid(format!("the stored draft of {year} is not a scheme file: {e}")))?;
        Ok(Some(SchemeDraft {
            year: row.try_get("year")?,
            base_version: row.try_get("base_version")?,
            file,
            revision: row.try_get("revision")?,
            updated_by: row.try_get("updated_by")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }

    /// Starts the year's draft from `base_version`'s file. Refused if there is one.
    pub async fn start_scheme_draft(&self, tx: &mut WriteTx, base_version: i32, file: &SchemeFile) -> Result<()> {
        let body = serde_json::to_string(file).map_err(|e| StoreError::invalid(format!("scheme to JSON: {e}")))?;
        let inserted = sqlx::query(
            "INSERT INTO scheme_drafts (year, base_version, body, revision, updated_by, updated_at) \
             VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT (year) DO NOTHING",
        )
        .bind(file.year)
        .bind(base_version)
        .bind(body)
        .bind(tx.actor().to_string())
        .bind(self.now())
        .execute(tx.conn())
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::AlreadyExists { what: format!("a draft of the {} scheme", file.year) });
        }
        Ok(())
    }

    /// Stores the draft after one step made on `revision`; returns the new revision.
    pub async fn save_scheme_draft(&self, tx: &mut WriteTx, file: &SchemeFile, revision: i64) -> Result<i64> {
        let body = serde_json::to_string(file).map_err(|e| StoreError::invalid(format!("scheme to JSON: {e}")))?;
        let updated = sqlx::query(
            "UPDATE scheme_drafts SET body = $1, revision = revision + 1, updated_by = $2, updated_at = $3 \
             WHERE year = $4 AND revision = $5",
        )
        .bind(body)
        .bind(tx.actor().to_string())
        .bind(self.now())
        .bind(file.year)
        .bind(revision)
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() == 0 {
            let current: Option<i64> =
                sqlx::query_scalar("SELECT revision FROM scheme_drafts WHERE year = $1").bind(file.year).fetch_optional(tx.conn()).await?;
            return Err(match current {
                None => StoreError::not_found(format!("a draft of the {} scheme", file.year)),
                Some(current) => StoreError::Conflict {
                    what: format!("the draft of the {} scheme", file.year),
                    expected: Some(revision),
                    current: Some(current),
                },
            });
        }
        Ok(revision + 1)
    }

    /// Deletes the year's draft (saved as a version, or discarded) if it is still at
    /// `revision`.
    pub async fn delete_scheme_draft(&self, tx: &mut WriteTx, year: i32, revision: i64) -> Result<()> {
        let deleted =
            sqlx::query("DELETE FROM scheme_drafts WHERE year = $1 AND revision = $2").bind(year).bind(revision).execute(tx.conn()).await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::Conflict { what: format!("the draft of the {year} scheme"), expected: Some(revision), current: None });
        }
        Ok(())
    }
}
