//! `jixiao data import` is the office's upload on the command line: the same rules,
//! the same words. A month the office closed refuses it with the message the
//! reporting page shows (`crates/web/tests/web/report.rs`), and nothing is written;
//! an open month loads, audited as the command line's import.

use std::process::Command;

use jixiao_app::testing::{TestWorld, scheme_2027};
use jixiao_app::{AppConfig, Clock, Tr, periods};
use jixiao_store::{Backend, PeriodState};

async fn closed_month_refused_like_the_web(backend: Backend) {
    let Some(w) = TestWorld::start(backend, AppConfig::default(), Clock::system()).await else { return };
    w.load_scheme(&scheme_2027()).await;
    let office = w.actor("office").await;
    periods::set_state(&w.app, &office, &Tr::default(), "2027-03".parse().unwrap(), PeriodState::Closed).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, month: &str| {
        let path = dir.path().join(name);
        let data = serde_json::json!({"entries": [{"unit": "u01", "indicator": "A1", "month": month, "values": {"actual": 40}}]});
        std::fs::write(&path, data.to_string()).unwrap();
        path.display().to_string()
    };
    // The test database's keys and anchor, outside it as in production.
    let (keys, anchor) = (w.db.key_file(), w.db.anchor_path());
    let import = |file: String| {
        Command::new(env!("CARGO_BIN_EXE_jixiao"))
            .args(["--database", &w.db.url, "data", "import", &file, "--year", "2027"])
            .args(["--key-file", keys.to_str().unwrap(), "--audit-anchor", anchor.to_str().unwrap()])
            .output()
            .expect("jixiao runs")
    };
    let out = import(write("march.json", "2027-03"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("2027-03 已关账，数据只能通过更正申请修改。"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(w.app.store.entry(2027, "u01", "A1", "2027-03").await.unwrap(), None, "nothing written");
    let out = import(write("april.json", "2027-04"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(w.app.store.entry(2027, "u01", "A1", "2027-04").await.unwrap().unwrap().state, "accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_month_refused_like_the_web_sqlite() {
    closed_month_refused_like_the_web(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_month_refused_like_the_web_postgres() {
    closed_month_refused_like_the_web(Backend::Postgres).await
}
