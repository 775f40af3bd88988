//! The one import path: the command line and the office's upload refuse the same
//! things with the same words — a closed month, an indicator the system fills — and
//! change nothing then.

use jixiao_app::testing::{TestWorld, scheme_2027};
use jixiao_app::{Actor, AppConfig, AppError, Tr, imports, periods};
use jixiao_core::org::Role;
use jixiao_store::{Backend, PeriodState};

use crate::{at, backend_tests};

backend_tests!(closed_months_refuse_imports, only_the_office_imports);

fn file(month: &str, value: f64) -> Vec<u8> {
    serde_json::json!({
        "entries": [{"unit": "u01", "indicator": "A1", "month": month, "values": {"actual": value}}],
        "records": []
    })
    .to_string()
    .into_bytes()
}

async fn closed_months_refuse_imports(backend: Backend) {
    let Some(w) = TestWorld::start(backend, AppConfig::default(), at("2027-04-20 10:00")).await else { return };
    w.load_scheme(&scheme_2027()).await;
    let (tr, office) = (Tr::default(), w.actor("office").await);
    periods::set_state(&w.app, &office, &tr, "2027-03".parse().unwrap(), PeriodState::Closed).await.unwrap();
    let cli = Actor::system("cli", Role::Office);
    for actor in [&office, &cli] {
        match imports::import_bytes(&w.app, actor, &tr, 2027, file("2027-03", 40.0), "test").await {
            Err(AppError::Invalid { message, .. }) => {
                assert!(message.contains("entries[0]: u01 A1 2027-03 — 2027-03 已关账，数据只能通过更正申请修改。"), "{message}")
            }
            other => panic!("a closed month is refused: {other:?}"),
        }
    }
    assert_eq!(w.app.store.entry(2027, "u01", "A1", "2027-03").await.unwrap(), None, "nothing written");
    // An open month loads, as accepted data, and is scored.
    let imported = imports::import_bytes(&w.app, &cli, &tr, 2027, file("2027-04", 40.0), "test").await.unwrap();
    assert_eq!((imported.entries, imported.records), (1, 0));
    assert_eq!(w.app.store.entry(2027, "u01", "A1", "2027-04").await.unwrap().unwrap().state, "accepted");
    let (entries, _) = w.app.store.search_audit(&Default::default(), 0, 100).await.unwrap();
    let audit = entries.iter().find(|e| e.action == "data.import").expect("audited");
    assert_eq!(audit.actor, "cli");
    assert!(audit.after_json.as_deref().unwrap().contains("\"source\":\"test\""));
}

async fn only_the_office_imports(backend: Backend) {
    let Some(w) = TestWorld::start(backend, AppConfig::default(), at("2027-04-20 10:00")).await else { return };
    w.load_scheme(&scheme_2027()).await;
    let tr = Tr::default();
    for username in ["reporter", "head", "assessor", "leader", "admin"] {
        let actor = w.actor(username).await;
        let refused = imports::import_bytes(&w.app, &actor, &tr, 2027, file("2027-04", 1.0), "test").await;
        assert!(matches!(refused, Err(AppError::Forbidden)), "{username}: {refused:?}");
    }
    assert_eq!(w.app.store.entry(2027, "u01", "A1", "2027-04").await.unwrap(), None);
}
