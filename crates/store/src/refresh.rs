//! Keeping stored scores current: the engine's results for every period of a
//! year, saved per scheme version so pages read them instead of recomputing.
//! Past periods keep the results of the version they were scored with, because
//! a new version's results are stored beside the old ones, never over them.

use jixiao_core::data::Dataset;
use jixiao_core::period::Period;
use jixiao_core::score::{PeriodReport, score_periods};

use crate::{Result, Store, StoreError};

impl Store {
    /// Recomputes all 17 periods of `year` with its latest scheme version and
    /// saves them. Returns the scheme version used.
    pub async fn refresh_scores(&self, year: i32) -> Result<i32> {
        let stored = self.scheme(year, None).await?;
        let scheme = stored.compile()?;
        let data = Dataset::load(&scheme, &self.data_file(year).await?).map_err(|e| {
            StoreError::invalid(format!("stored data of {year} no longer fits scheme version {}: {e}", stored.info.version))
        })?;
        // Scoring is CPU work: off the async workers, so requests keep being served.
        let reports = tokio::task::spawn_blocking(move || {
            let periods = Period::all_in_year(year);
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
        for (period, rows) in reports {
            self.save_scores(year, stored.info.version, &period, rows).await?;
        }
        Ok(stored.info.version)
    }
}
