//! The background jobs in several processes on one database: each run is claimed
//! first, so a job runs once per interval whatever the number of processes; the score
//! check repairs stored scores left stale (as by a crash between a change and its
//! rescore).

use jixiao_app::jobs::{Job, run_if_due};
use jixiao_app::testing::{TestWorld, scheme_2027};
use jixiao_app::{AppConfig, Clock};
use jixiao_store::Backend;

use crate::{at, backend_tests};

backend_tests!(two_processes_run_each_job_once, the_score_check_repairs_stale_scores);

async fn reminder_runs(w: &TestWorld) -> usize {
    let (entries, _) = w.app.store.search_audit(&Default::default(), 0, 1000).await.unwrap();
    entries.iter().filter(|e| e.action == "outbox.reminders").count()
}

async fn two_processes_run_each_job_once(backend: Backend) {
    // Three days before the deadline of March (15 April 2027, a Thursday), at 10:00.
    let clock = at("2027-04-12 10:00");
    let Some(w) = TestWorld::start(backend, AppConfig::default(), clock.clone()).await else { return };
    w.load_scheme(&scheme_2027()).await;
    // Another process: its own pool and clock, the same database and time.
    let other_clock = Clock::fixed(clock.now());
    let other = w.other_app(AppConfig::default(), other_clock.clone()).await;
    for job in [Job::Reminders, Job::AutoClose, Job::Sessions, Job::Scores] {
        let (a, b) = tokio::join!(run_if_due(&w.app, job, "process-a"), run_if_due(&other, job, "process-b"));
        let ran = [a.unwrap(), b.unwrap()].into_iter().filter(Option::is_some).count();
        assert_eq!(ran, 1, "{} ran once, in one of the two processes", job.name());
    }
    assert_eq!(reminder_runs(&w).await, 1);
    let (messages, total) = w.app.store.outbox(Some("reminder"), None, 10, 0).await.unwrap();
    assert_eq!(total, 2, "the reporters of u01 and u02, whose A1 is due: {messages:?}");
    // Later the same day: not due again.
    clock.advance(chrono::Duration::hours(3));
    other_clock.advance(chrono::Duration::hours(3));
    assert_eq!(run_if_due(&w.app, Job::Reminders, "process-a").await.unwrap(), None);
    assert_eq!(run_if_due(&other, Job::Reminders, "process-b").await.unwrap(), None);
    // The auto-close job is due again after ten minutes, in whichever process asks first.
    assert!(run_if_due(&other, Job::AutoClose, "process-b").await.unwrap().is_some());
    assert_eq!(run_if_due(&w.app, Job::AutoClose, "process-a").await.unwrap(), None);
    // The next morning at 09:00, once more — but not at 08:59.
    let next_morning = clock.to_utc(chrono::NaiveDate::from_ymd_opt(2027, 4, 13).unwrap().and_hms_opt(8, 59, 0).unwrap());
    clock.set(next_morning);
    other_clock.set(next_morning);
    assert_eq!(run_if_due(&w.app, Job::Reminders, "process-a").await.unwrap(), None, "not before 09:00");
    clock.advance(chrono::Duration::minutes(1));
    other_clock.advance(chrono::Duration::minutes(1));
    let (a, b) = tokio::join!(run_if_due(&w.app, Job::Reminders, "process-a"), run_if_due(&other, Job::Reminders, "process-b"));
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|r| r.is_some()).count(), 1);
    assert_eq!(reminder_runs(&w).await, 2);
    assert_eq!(w.app.store.outbox(Some("reminder"), None, 10, 0).await.unwrap().1, 4, "a new reminder each day");
    // What ran, and how it ended, is on record.
    let runs = w.app.store.job_runs().await.unwrap();
    let reminders = runs.iter().find(|r| r.0 == "reminders").unwrap();
    assert!(reminders.3.contains("2 reminder(s) for 2027-03"), "{reminders:?}");
}

async fn the_score_check_repairs_stale_scores(backend: Backend) {
    let Some(w) = TestWorld::start(backend, AppConfig::default(), at("2027-04-20 10:00")).await else { return };
    w.load_scheme(&scheme_2027()).await;
    let office = w.actor("office").await;
    let tr = jixiao_app::Tr::default();
    let file: jixiao_core::data::KeyedDataFile = serde_json::from_value(serde_json::json!({
        "entries": [{"unit": "u01", "indicator": "A1", "month": "2027-03", "values": {"actual": 50}}]
    }))
    .unwrap();
    jixiao_app::imports::import(&w.app, &office, &tr, 2027, &file, "test").await.unwrap();
    let total = |rows: Vec<jixiao_store::ScoreRow>| rows.iter().find(|r| r.unit_id == "u01").and_then(|r| r.result["total"].as_f64());
    let stored = total(w.app.store.scores(2027, 1, "2027-03").await.unwrap());
    assert_eq!(stored, Some(5.0), "50 of a target of 100 gives half of 10 points");
    // Data changed without its rescore — by hand, or by a process from before scores
    // were stored in the data's own transaction — leaves the stored total wrong.
    sqlx::query("UPDATE entries SET values_json = $1, version = version + 1 WHERE unit_id = 'u01' AND month = '2027-03'")
        .bind(serde_json::json!({"actual": 80}).to_string())
        .execute(w.app.store.pool())
        .await
        .unwrap();
    assert_eq!(total(w.app.store.scores(2027, 1, "2027-03").await.unwrap()), Some(5.0));
    // A process starting afresh checks: the row is repaired.
    let fresh = w.other_app(AppConfig::default(), w.app.clock.clone()).await;
    let line = run_if_due(&fresh, Job::Scores, "fresh").await.unwrap().expect("due at start");
    assert!(!line.starts_with("0 "), "{line}");
    assert_eq!(total(fresh.store.scores(2027, 1, "2027-03").await.unwrap()), Some(8.0), "80 of 100 gives 8 of 10 points");
}
