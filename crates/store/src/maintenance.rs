//! Backups.
//!
//! SQLite: `VACUUM INTO` writes a consistent, compacted copy of the live database while
//! readers and writers carry on; the copy is an ordinary database file that `jixiao`
//! opens like any other. PostgreSQL has its own tools (`pg_dump`, base backups with
//! WAL archiving), which do the job better than anything the store could do.

use std::path::Path;

use crate::error::{Result, StoreError};
use crate::{Backend, Store};

impl Store {
    /// Writes a copy of the database to `path`, which must not exist yet.
    pub async fn backup(&self, path: &Path) -> Result<()> {
        if self.backend() == Backend::Postgres {
            return Err(StoreError::Unsupported(
                "backups of a PostgreSQL database are made with PostgreSQL's tools: \
                 `pg_dump --format=custom` (or base backups with WAL archiving)"
                    .to_string(),
            ));
        }
        if path.exists() {
            return Err(StoreError::invalid(format!("{} already exists; choose a new file for the backup", path.display())));
        }
        let target = path.to_str().ok_or_else(|| StoreError::invalid(format!("backup path {} is not valid UTF-8", path.display())))?;
        // VACUUM cannot run inside a transaction; the pool hands out connections with
        // none open.
        sqlx::query("VACUUM INTO $1").bind(target).execute(self.pool()).await?;
        Ok(())
    }
}
