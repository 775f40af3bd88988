//! Evidence files (佐证材料) attached to things — so far to entries (`entry`,
//! `2027/u01/A1/2027-03`). The content is kept in the database with its SHA-256, so a
//! backup holds everything and a file can be shown unchanged since upload.

use sha2::Digest;
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx};

/// An attachment without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: i64,
    pub owner_type: String,
    pub owner_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

const COLUMNS: &str = "id, owner_type, owner_id, filename, content_type, size, sha256, uploaded_by, uploaded_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Attachment> {
    Ok(Attachment {
        id: row.try_get("id")?,
        owner_type: row.try_get("owner_type")?,
        owner_id: row.try_get("owner_id")?,
        filename: row.try_get("filename")?,
        content_type: row.try_get("content_type")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded_at: row.try_get("uploaded_at")?,
    })
}

impl Store {
    /// Stores a file; returns it as stored. The caller checks type and size.
    pub async fn add_attachment(
        &self,
        tx: &mut WriteTx,
        owner_type: &str,
        owner_id: &str,
        filename: &str,
        content_type: &str,
        content: &[u8],
    ) -> Result<Attachment> {
        if filename.trim().is_empty() || filename.contains('\0') {
            return Err(StoreError::invalid("an attachment needs a file name"));
        }
        let sha256 = hex::encode(sha2::Sha256::digest(content));
        let at = self.now();
        let actor = tx.actor().to_string();
        let size = i64::try_from(content.len()).map_err(|_| StoreError::invalid("the file is too large"))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO attachments (owner_type, owner_id, filename, content_type, size, sha256, content, uploaded_by, \
             uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(owner_type)
        .bind(owner_id)
        .bind(filename)
        .bind(content_type)
        .bind(size)
        .bind(&sha256)
        .bind(content.to_vec())
        .bind(&actor)
        .bind(&at)
        .fetch_one(tx.conn())
        .await?;
        Ok(Attachment {
            id,
            owner_type: owner_type.into(),
            owner_id: owner_id.into(),
            filename: filename.into(),
            content_type: content_type.into(),
            size,
            sha256,
            uploaded_by: actor,
            uploaded_at: at,
        })
    }

    /// The attachments of the given owners (e.g. the entries of a unit's month), by
    /// owner in the order given, then oldest first.
    pub async fn attachments(&self, owner_type: &str, owner_ids: &[String]) -> Result<Vec<Attachment>> {
        let mut all = Vec::new();
        for owner in owner_ids {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM attachments WHERE owner_type = $1 AND owner_id = $2 ORDER BY id"
            )))
            .bind(owner_type)
            .bind(owner)
            .fetch_all(self.pool())
            .await?;
            for row in &rows {
                all.push(from_row(row)?);
            }
        }
        Ok(all)
    }

    /// One attachment with its content.
    pub async fn attachment(&self, id: i64) -> Result<(Attachment, Vec<u8>)> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS}, content FROM attachments WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("attachment {id}")))?;
        Ok((from_row(&row)?, row.try_get("content")?))
    }
}
