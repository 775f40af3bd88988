//! What a process keeps between requests, each entry checked against the database so
//! that several processes on one database stay correct: compiled schemes (a stored
//! version never changes) and each month's reported indicators (re-read when the
//! month's fingerprint moves).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use jixiao_core::scheme::Scheme;
use jixiao_store::{SchemeVersionInfo, Store};

use crate::error::{AppError, Result};

/// (year, version) → compiled scheme.
type Compiled = HashMap<(i32, i32), Arc<Scheme>>;

#[derive(Default)]
pub(crate) struct SchemeCache {
    compiled: Mutex<Compiled>,
}

impl SchemeCache {
    /// The latest version of `year`'s scheme, compiled; only the version list is read
    /// per call, a version's file once.
    pub async fn latest(&self, store: &Store, year: i32) -> Result<Option<(SchemeVersionInfo, Arc<Scheme>)>> {
        let Some(info) = store.scheme_versions(year).await?.into_iter().max_by_key(|v| v.version) else {
            return Ok(None);
        };
        let key = (info.year, info.version);
        if let Some(s) = self.lock()?.get(&key) {
            return Ok(Some((info, s.clone())));
        }
        let scheme = Arc::new(store.scheme(year, Some(info.version)).await?.compile()?);
        self.lock()?.insert(key, scheme.clone());
        Ok(Some((info, scheme)))
    }

    fn lock(&self) -> Result<MutexGuard<'_, Compiled>> {
        self.compiled.lock().map_err(|_| AppError::internal("scheme cache poisoned"))
    }
}

/// Unit id → the ids of the indicators it reported.
pub type Reported = HashMap<String, HashSet<String>>;

/// A month's entries fingerprint: their number and latest change.
type Fingerprint = (i64, Option<String>);

#[derive(Default)]
pub(crate) struct ReportedCache {
    months: Mutex<HashMap<(i32, String), (Fingerprint, Arc<Reported>)>>,
}

impl ReportedCache {
    pub async fn get(&self, store: &Store, year: i32, month: &str) -> Result<Arc<Reported>> {
        let fingerprint = store.month_fingerprint(year, month).await?;
        let key = (year, month.to_string());
        let poisoned = || AppError::internal("reported cache poisoned");
        if let Some((f, set)) = self.months.lock().map_err(|_| poisoned())?.get(&key)
            && *f == fingerprint
        {
            return Ok(set.clone());
        }
        let mut reported = Reported::new();
        for (unit, indicator) in store.reported_in_month(year, month).await? {
            reported.entry(unit).or_default().insert(indicator);
        }
        let set = Arc::new(reported);
        self.months.lock().map_err(|_| poisoned())?.insert(key, (fingerprint, set.clone()));
        Ok(set)
    }
}
