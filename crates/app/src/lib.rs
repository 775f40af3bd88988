//! jixiao-app: the use cases of jixiao (绩效), once, for every front end.
//!
//! The web pages, the JSON API, Open311 and the command line all call these; none of
//! them decides what may be done or writes to the store by itself. A use case takes
//! the `App` (store, clock, configuration, caches), the `Actor` who acts, and plain
//! values, and returns plain values or an `AppError` — no HTTP, no terminal.
//!
//! The modules:
//! - `actor` — who acts and the one permission check; `error` — `AppError`;
//! - `clock` — the one clock and the site's time zone; `settings` — what is kept in
//!   the settings table (policy, calendar, public address, zone) and the process
//!   configuration; `calendar` — the working calendar and report deadlines;
//! - `i18n` — the message catalogues; `text` — numbers, periods and lights in words;
//!   `input` — the bounds of texts people type;
//! - `collection` — the steps of the monthly reporting workflow; `imports` — the one
//!   path of data files into the store; `periods` — months' states and corrections;
//! - `scores` — stored results with their lights; `analysis` — the analysis report;
//!   `bulletins` — who sees which bulletin, and its steps;
//! - `service` — public service requests: intake, steps, metrics, SMS; `captcha` — the
//!   public forms' CAPTCHA;
//! - `records` — bonus and deduction records registered in the browser, bonus
//!   applications, the topic reports;
//! - `supervision` — supervision tasks (督办事项): assigning, steps, ledger, metrics,
//!   the overdue pass and the leader's dashboard; `filled` — the one writer of the
//!   entries the system fills from a source's metrics (service, supervision);
//! - `reminders` — deadline reminders; `accounts` — users, sessions, API tokens,
//!   Open311 keys; `files` — what an uploaded file may be; `evidence` — evidence of
//!   entries, and downloads;
//! - `xlsx` — every workbook read or written, and the one bounded reader;
//! - `jobs` — the background work, run by `jixiao worker` or inside `jixiao serve`.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod actor;
pub mod analysis;
pub mod audit;
pub mod bulletins;
pub mod calendar;
pub mod captcha;
pub mod clock;
pub mod collection;
pub mod error;
pub mod evidence;
pub mod files;
pub mod filled;
pub mod i18n;
pub mod imports;
pub mod input;
pub mod jobs;
pub mod org;
pub mod periods;
pub mod records;
pub mod reminders;
pub mod schemes;
pub mod scores;
pub mod service;
pub mod settings;
pub mod supervision;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod xlsx;

pub mod caches;

use std::sync::Arc;

pub use actor::Actor;
pub use clock::Clock;
pub use error::{AppError, Result};
pub use i18n::{Lang, Tr};
pub use jixiao_store::Store;
pub use settings::{AppConfig, Policy};

/// What every use case can reach: cheap to clone, shared by every request and job.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Clock,
    pub config: Arc<AppConfig>,
    policy: Arc<settings::PolicyCache>,
    pub(crate) schemes: Arc<caches::SchemeCache>,
    pub(crate) reported: Arc<caches::ReportedCache>,
    /// The bound on security events written (`audit::security_event`).
    pub(crate) events: Arc<audit::EventGate>,
}

impl App {
    /// The application over `store`, on `clock`, which also stamps everything the
    /// store writes. Reads the site's time zone from the settings.
    pub async fn new(store: Store, config: AppConfig, clock: Clock) -> Result<App> {
        let store = store.with_clock(clock.source());
        let app = App {
            store,
            clock,
            config: Arc::new(config),
            policy: Arc::default(),
            schemes: Arc::default(),
            reported: Arc::default(),
            events: Arc::default(),
        };
        settings::load_zone(&app).await?;
        Ok(app)
    }

    /// The security policy in force (from the settings table, cached briefly).
    pub async fn policy(&self) -> Policy {
        self.policy.get(&self.store).await
    }

    /// The latest version of `year`'s scheme, compiled once per process; `None` if
    /// the year has none.
    pub async fn latest_scheme(&self, year: i32) -> Result<Option<(jixiao_store::SchemeVersionInfo, Arc<jixiao_core::scheme::Scheme>)>> {
        self.schemes.latest(&self.store, year).await
    }

    /// Each unit's reported indicators in `month` (`2027-03`) of `year`, re-read only
    /// when the month's entries changed.
    pub async fn reported(&self, year: i32, month: &str) -> Result<Arc<caches::Reported>> {
        self.reported.get(&self.store, year, month).await
    }

    /// The latest scheme of `year`, or why there is none.
    pub async fn scheme_of(&self, year: i32) -> Result<(jixiao_store::SchemeVersionInfo, Arc<jixiao_core::scheme::Scheme>)> {
        self.latest_scheme(year).await?.ok_or_else(|| AppError::invalid(format!("there is no scheme for {year}")))
    }
}
