//! Background work (后台任务): what happens without anyone asking. `jixiao worker` runs
//! these jobs; `jixiao serve` runs them too unless told not to (`--no-jobs`).
//!
//! | job | when | does |
//! |---|---|---|
//! | `sms` | every few seconds (`[sms] poll_seconds`) | sends the due SMS of the outbox (`service::sms`) |
//! | `reminders` | once a day, from 09:00 site time | queues the deadline reminders of the month due (`reminders`) |
//! | `supervision` | once a day, from 09:00 site time | reminds units of supervision tasks due soon or overdue, adds the overdue deductions, refreshes the supervision metrics (`supervision::overdue`) |
//! | `auto_close` | every 10 minutes | closes verified service requests the citizen did not rate in time |
//! | `sessions` | every hour | removes sessions past their absolute expiry, expired CAPTCHA challenges and the SMS counts of past days |
//! | `scores` | every hour (and every process at its start: `check_scores_at_start`) | checks the stored scores against the data they were computed from and repairs stale ones |
//!
//! Any number of processes may run the jobs against one database: each run is first
//! claimed in the database (`store::jobs`), so a job runs once per interval and never
//! in two processes at a time; the SMS sender claims each message it sends instead.
//! A run that fails is logged and tried again at the next interval; one request or
//! message that fails does not stop the rest of a run.

use std::time::Duration;

use chrono::NaiveTime;
use jixiao_core::org::Role;

use crate::actor::Actor;
use crate::error::Result;
use crate::{App, accounts, collection, reminders, service};

/// A background job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Sms,
    Reminders,
    AutoClose,
    Sessions,
    Scores,
    Supervision,
}

impl Job {
    pub const ALL: [Job; 6] = [Job::Sms, Job::Reminders, Job::AutoClose, Job::Sessions, Job::Scores, Job::Supervision];

    pub fn name(self) -> &'static str {
        match self {
            Job::Sms => "sms",
            Job::Reminders => "reminders",
            Job::AutoClose => "auto_close",
            Job::Sessions => "sessions",
            Job::Scores => "scores",
            Job::Supervision => "supervision",
        }
    }

    /// How often it runs; `None` for the SMS sender, which claims messages instead.
    fn every(self) -> Option<chrono::Duration> {
        match self {
            Job::Sms => None,
            Job::Reminders | Job::Supervision => Some(chrono::Duration::days(1)),
            Job::AutoClose => Some(chrono::Duration::minutes(10)),
            Job::Sessions | Job::Scores => Some(chrono::Duration::hours(1)),
        }
    }

    /// The site-zone time of day before which a daily job does not run.
    fn not_before(self) -> Option<NaiveTime> {
        match self {
            Job::Reminders | Job::Supervision => NaiveTime::from_hms_opt(9, 0, 0),
            _ => None,
        }
    }
}

/// Who the jobs act as in the audit log.
fn actor(job: Job) -> Actor {
    Actor::system(&format!("system:{}", job.name()), Role::Office)
}

/// Does one run of `job` now; a line saying what it did.
pub async fn run_once(app: &App, job: Job) -> Result<String> {
    match job {
        Job::Sms => {
            let d = service::sms::deliver_due(app).await?;
            Ok(format!("sent {}, recorded {}, retried {}, failed {}", d.sent, d.recorded, d.retried, d.failed))
        }
        Job::Reminders => {
            let month = collection::due_month(app);
            if app.latest_scheme(month.year).await?.is_none() {
                return Ok(format!("no scheme for {}", month.year));
            }
            let queued = reminders::queue(app, &actor(job), month).await?;
            Ok(format!("{queued} reminder(s) for {month}"))
        }
        Job::AutoClose => {
            let (closed, failed) = service::flow::auto_close(app, app.config.service_auto_close_days).await?;
            Ok(format!("closed {closed}, failed {failed}"))
        }
        Job::Sessions => {
            let sessions = accounts::purge_expired_sessions(app).await?;
            let challenges = crate::captcha::purge(app).await?;
            // A day's count matters until the day is over everywhere: keep yesterday's.
            let counts = app.store.purge_sms_counts(&(app.clock.today() - chrono::Duration::days(1)).to_string()).await?;
            Ok(format!("removed {sessions} expired session(s), {challenges} CAPTCHA challenge(s), {counts} SMS count(s) of past days"))
        }
        Job::Supervision => {
            let pass = crate::supervision::overdue::run(app, &actor(job)).await?;
            Ok(format!("{} reminder(s), {} deduction(s), {} metric entr(ies)", pass.reminders, pass.deductions, pass.entries))
        }
        Job::Scores => {
            let repaired = app.store.repair_stale_scores().await?;
            let rows: usize = repaired.iter().map(|(_, n)| n).sum();
            Ok(format!("{rows} stale score row(s) repaired in {} year(s)", repaired.len()))
        }
    }
}

/// Claims and does a run of `job` if it is due and nobody else runs it; what it did,
/// or `None` when it was not this process's turn.
pub async fn run_if_due(app: &App, job: Job, claimant: &str) -> Result<Option<String>> {
    let Some(every) = job.every() else { return run_once(app, job).await.map(Some) };
    let now = app.clock.now();
    let since = match job.not_before() {
        Some(at) => {
            if app.clock.local_now().time() < at {
                return Ok(None);
            }
            // Once a day: not since today's first due moment.
            app.clock.to_utc(app.clock.today().and_time(at))
        }
        None => now - every,
    };
    // A run holds its claim at most this long; a process that dies frees it then.
    let lease = now + chrono::Duration::minutes(30);
    let stamp = jixiao_store::timestamp;
    if !app.store.claim_job(job.name(), claimant, &stamp(now), &stamp(lease), &stamp(since)).await? {
        return Ok(None);
    }
    let outcome = run_once(app, job).await;
    let line = match &outcome {
        Ok(line) => line.clone(),
        Err(e) => format!("failed: {e}"),
    };
    app.store.release_job(job.name(), claimant, &app.clock.stamp(), &line).await?;
    outcome.map(Some)
}

/// The stored-scores check every process makes when it starts, whatever the claims
/// (scores written by an older version, or a database restored from a backup, are
/// found at once): the years whose stored scores are behind their data are rescored.
pub async fn check_scores_at_start(app: &App) -> Result<()> {
    for (year, rows) in app.store.repair_stale_scores().await? {
        tracing::warn!(year, rows, "stored scores were behind the data and are repaired");
    }
    Ok(())
}

/// A name for this process's claims: host-independent, unique per process run.
pub fn claimant() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("the operating system's random number generator");
    format!("{}-{}", std::process::id(), hex::encode(b))
}

/// Runs `jobs` until the process ends: each due job is tried every few seconds (the
/// SMS sender at its own poll interval).
pub async fn run(app: App, jobs: Vec<Job>) {
    let me = claimant();
    tracing::info!(jobs = ?jobs.iter().map(|j| j.name()).collect::<Vec<_>>(), claimant = %me, "background jobs started");
    let sms_every = Duration::from_secs(app.config.sms.poll_seconds.max(1));
    let tick = Duration::from_secs(5).min(sms_every);
    let mut last_sms = std::time::Instant::now() - sms_every;
    loop {
        for &job in &jobs {
            if job == Job::Sms {
                if last_sms.elapsed() < sms_every {
                    continue;
                }
                last_sms = std::time::Instant::now();
            }
            match run_if_due(&app, job, &me).await {
                Ok(Some(line)) if job != Job::Sms || !line.starts_with("sent 0, recorded 0, retried 0, failed 0") => {
                    tracing::info!(job = job.name(), "{line}")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(job = job.name(), error = %e, "background job failed; trying again later"),
            }
        }
        tokio::time::sleep(tick).await;
    }
}
