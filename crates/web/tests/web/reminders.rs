//! Deadline reminders queued in the outbox: only in the last days before the
//! deadline and after it, only to reporters of units with something not reported,
//! once a day per user.

use chrono::NaiveDate;
use jixiao_app::{Actor, AppConfig, Clock};
use jixiao_core::org::Role;
use reqwest::StatusCode;

use crate::common::{TestApp, backend_tests};

backend_tests!(reminders_go_to_units_not_yet_reported);

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn reminders_go_to_units_not_yet_reported(app: TestApp) {
    crate::report::seed(&app).await;
    let month = "2027-03".parse().unwrap();
    let cron = Actor::system("cron", Role::Office);
    // Each day, as the daily job runs it: the clock at 09:00 that day.
    let queue = |today: &'static str| {
        let clock = Clock::at_local(day(today).and_hms_opt(9, 0, 0).unwrap());
        let (app, cron) = (&app, cron.clone());
        async move { jixiao_app::reminders::queue(&app.other_app(AppConfig::default(), clock).await, &cron, month).await.unwrap() }
    };
    // The deadline is 2027-04-15: nothing on the 1st.
    assert_eq!(queue("2027-04-01").await, 0);
    // Three days before: the reporters of u01 and u02 (A1 is for departments; s01 has nothing due).
    assert_eq!(queue("2027-04-12").await, 2);
    let (messages, _) = app.store.outbox(Some("reminder"), None, 10, 0).await.unwrap();
    let mut recipients: Vec<&str> = messages.iter().map(|m| m.recipient.as_str()).collect();
    recipients.sort();
    assert_eq!(recipients, ["user:reporter", "user:victim"]);
    let to_reporter = messages.iter().find(|m| m.recipient == "user:reporter").unwrap();
    assert!(
        to_reporter.body.contains("区发改局") && to_reporter.body.contains("2027-04-15") && to_reporter.body.contains("1 项"),
        "{}",
        to_reporter.body
    );
    assert_eq!((to_reporter.channel.as_str(), to_reporter.status.as_str()), ("sms", "pending"));
    // Again the same day: nothing new. u01 reports; the next day only u02 is reminded.
    assert_eq!(queue("2027-04-12").await, 0);
    let reporter = app.session("reporter").await;
    let r = app.post(Some(&reporter), "/units/u01/report/2027-03", &[("action", "save"), ("v.A1.actual", "40"), ("ver.A1", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(queue("2027-04-13").await, 1);
    // After the deadline, still reminded (as late).
    assert_eq!(queue("2027-04-20").await, 1);
    let (messages, total) = app.store.outbox(Some("reminder"), None, 10, 0).await.unwrap();
    assert_eq!(total, 4);
    assert!(messages[0].body.contains("已于 2027-04-15 截止"), "{}", messages[0].body);
    // The office's button does the same through the page, with its audit entry.
    let office = app.session("office").await;
    let r = app.post(Some(&office), "/reports/reminders", &[("month", "2027-03")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        app.store
            .search_audit(&Default::default(), 0, 50)
            .await
            .unwrap()
            .0
            .iter()
            .any(|e| e.action == "outbox.reminders" && e.actor == "office")
    );
    let r = app.post(Some(&office), "/reports/reminders", &[("month", "2027-13")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
