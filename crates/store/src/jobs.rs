//! Claims on background jobs (`job_runs`), so that any number of processes on one
//! database run each job once per its interval and never two at a time.
//!
//! A claim is one statement that takes a job's row only when nobody holds a live
//! claim and the last run started before `since`; it sets the claimant and the end of
//! its lease. `release` ends the claim with the run's outcome. Claims are bookkeeping,
//! like a session's last-use time, and not audited; what a job changes is.

use crate::{Result, Store};

impl Store {
    /// Claims a run of job `name` for `claimant` from `now` until `until`, if no live
    /// claim is held and the job last started before `since` (all stored timestamps).
    /// Whether the claim was taken.
    pub async fn claim_job(&self, name: &str, claimant: &str, now: &str, until: &str, since: &str) -> Result<bool> {
        let insert = match self.backend() {
            crate::Backend::Sqlite => "INSERT OR IGNORE INTO job_runs (name) VALUES ($1)",
            crate::Backend::Postgres => "INSERT INTO job_runs (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
        };
        sqlx::query(insert).bind(name).execute(self.pool()).await?;
        let done = sqlx::query(
            "UPDATE job_runs SET claimed_by = $1, claimed_until = $2, last_started_at = $3 \
             WHERE name = $4 AND (claimed_until IS NULL OR claimed_until < $3) \
             AND (last_started_at IS NULL OR last_started_at < $5)",
        )
        .bind(claimant)
        .bind(until)
        .bind(now)
        .bind(name)
        .bind(since)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends `claimant`'s claim on job `name`, recording when and how the run ended.
    pub async fn release_job(&self, name: &str, claimant: &str, finished: &str, outcome: &str) -> Result<()> {
        sqlx::query(
            "UPDATE job_runs SET claimed_by = NULL, claimed_until = NULL, last_finished_at = $1, last_outcome = $2 \
             WHERE name = $3 AND claimed_by = $4",
        )
        .bind(finished)
        .bind(outcome)
        .bind(name)
        .bind(claimant)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every job's last run: (name, last started, last finished, outcome).
    pub async fn job_runs(&self) -> Result<Vec<(String, Option<String>, Option<String>, String)>> {
        let rows: Vec<(String, Option<String>, Option<String>, String)> =
            sqlx::query_as("SELECT name, last_started_at, last_finished_at, last_outcome FROM job_runs ORDER BY name")
                .fetch_all(self.pool())
                .await?;
        Ok(rows)
    }
}
