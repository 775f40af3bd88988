//! The analysis report's sentences on reporting (数据报送情况) checked against the
//! data they claim: a month still open, one unit on time and one missing, the missing
//! one handed in late, and a month every unit handed in. "Every unit reported on time"
//! is said only when it is true.

use jixiao_app::collection::{self, Change};
use jixiao_app::testing::{TestWorld, scheme_2027};
use jixiao_app::{AppConfig, Tr, analysis};
use jixiao_core::period::Period;
use jixiao_core::workflow::Step;
use jixiao_store::Backend;

use crate::{at, backend_tests};

backend_tests!(reporting_sentences_match_the_data);

/// `user` submits A1 of `unit` for `month` at the clock's time.
async fn submit(w: &TestWorld, user: &str, unit: &str, month: &str) {
    let data = collection::load(&w.app, unit, month.parse().unwrap()).await.unwrap();
    let values = serde_json::json!({"actual": 80}).as_object().unwrap().clone();
    let change = Change { indicator: "A1".into(), step: Step::Submit, values: Some(values), seen_version: None, reason: String::new() };
    let applied = collection::apply(&w.app, &w.actor(user).await, &Tr::default(), &data, vec![change]).await.unwrap();
    assert!(applied.is_ok(), "{user} submits {unit} {month}");
}

/// The reporting section's sentences as plain text.
async fn sentences(w: &TestWorld, period: &str) -> Vec<String> {
    let period: Period = period.parse().unwrap();
    let report = analysis::build(&w.app, &w.actor("office").await, &Tr::default(), period).await.unwrap();
    let section = report.sections.iter().find(|s| s.id == "reporting").expect("a reporting section");
    section.sentences.iter().map(|s| s.iter().map(|p| p.text.as_str()).collect()).collect()
}

async fn reporting_sentences_match_the_data(backend: Backend) {
    // March is due on 15 April 2027 (a Thursday). u01 and u02 report A1; s01 has nothing due.
    let Some(w) = TestWorld::start(backend, AppConfig::default(), at("2027-04-10 10:00")).await else { return };
    w.load_scheme(&scheme_2027()).await;

    // Before the deadline, nothing in: not late, but not reported either.
    assert_eq!(sentences(&w, "2027-03").await, ["本期没有逾期报送或未报送的单位。", "2个单位2027-03的数据尚未报齐，报送截止日未到。"]);

    // u01 hands in on time; the deadline passes with u02 still missing.
    submit(&w, "reporter", "u01", "2027-03").await;
    assert_eq!(sentences(&w, "2027-03").await, ["本期没有逾期报送或未报送的单位。", "1个单位2027-03的数据尚未报齐，报送截止日未到。"]);
    w.app.clock.set(at("2027-04-20 10:00").now());
    assert_eq!(sentences(&w, "2027-03").await, ["区财政局：未报送 2027-03。"]);

    // u02 hands in after the deadline: late, and nothing else to say.
    submit(&w, "victim", "u02", "2027-03").await;
    assert_eq!(sentences(&w, "2027-03").await, ["区财政局：逾期报送 2027-03。"]);

    // April: both in before its deadline (15 May) — every unit on time.
    w.app.clock.set(at("2027-05-06 10:00").now());
    submit(&w, "reporter", "u01", "2027-04").await;
    submit(&w, "victim", "u02", "2027-04").await;
    assert_eq!(sentences(&w, "2027-04").await, ["本期各单位均按时报送。"]);
    // The first quarter: March late for u02, January and February missing for both.
    let q1 = sentences(&w, "2027-Q1").await;
    assert!(!q1.iter().any(|s| s.contains("均按时报送")), "{q1:?}");
    assert!(q1.iter().any(|s| s.starts_with("区财政局：") && s.contains("逾期报送 2027-03")), "{q1:?}");
}
