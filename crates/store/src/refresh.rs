//! Keeping stored scores current: the engine's results for the periods of a year,
//! saved per scheme version so pages read them instead of recomputing. Past periods
//! keep the results of the version they were scored with, because a new version's
//! results are stored beside the old ones, never over them.
//!
//! A change to month `m` reaches exactly the periods that end in `m` or later: a
//! `ytd` window runs from January to the period's end, a `period` window covers the
//! period's own months, so no period ending before `m` reads it. Only those periods
//! are recomputed, and only the units whose result changed are written (`scores`).

use jixiao_core::data::Dataset;
use jixiao_core::period::Period;
use jixiao_core::score::{PeriodReport, score_periods};

use crate::{Result, Store, StoreError};

impl Store {
    /// Recomputes all 17 periods of `year` with its latest scheme version and saves
    /// what changed. Returns the scheme version used.
    pub async fn refresh_scores(&self, year: i32) -> Result<i32> {
        self.refresh_scores_from(year, 1).await
    }

    /// Recomputes the periods of `year` that a change to month `from` (1–12) reaches
    /// — those ending in `from` or later — and saves what changed.
    pub async fn refresh_scores_from(&self, year: i32, from: u8) -> Result<i32> {
        let stored = self.scheme(year, None).await?;
        let scheme = stored.compile()?;
        let data = Dataset::load(&scheme, &self.data_file(year).await?).map_err(|e| {
            StoreError::invalid(format!("stored data of {year} no longer fits scheme version {}: {e}", stored.info.version))
        })?;
        // Scoring is CPU work: off the async workers, so requests keep being served.
        let reports = tokio::task::spawn_blocking(move || {
            let periods: Vec<Period> = Period::all_in_year(year).into_iter().filter(|p| p.end_month() >= from).collect();
            score_periods(&scheme, &data, &periods)
                .into_iter()
                .map(|result| {
                    let rows = PeriodReport::new(&scheme, &result)
                        .units
                        .into_iter()
                        .map(|u| Ok((u.unit.clone(), serde_json::to_value(&u).map_err(|e| StoreError::invalid(e.to_string()))?)))
                        .collect::<Result<Vec<_>>>()?;
                    Ok((result.period.to_string(), rows))
                })
                .collect::<Result<Vec<_>>>()
        })
        .await
        .map_err(|e| StoreError::invalid(format!("scoring did not finish: {e}")))??;
        self.update_scores(year, stored.info.version, reports).await?;
        Ok(stored.info.version)
    }
}
