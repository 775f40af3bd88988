//! Supervision tasks through the use cases: the whole lifecycle with its history,
//! audit and the supervision score; scope and bad input; the overdue pass.

use jixiao_app::supervision::{ledger, metrics, overdue, tasks};
use jixiao_app::testing::{TestWorld, scheme_2027_supervision};
use jixiao_app::{AppConfig, AppError, Tr};
use jixiao_core::org::{Role, Scope};
use jixiao_store::{Backend, NewUser, RoleGrant};

use crate::{at, backend_tests};

backend_tests!(a_task_from_a_red_light_to_its_evaluation, scope_and_bad_input, the_overdue_pass_reminds_and_deducts);

fn task(deadline: &str, lead: &str, co: &[&str]) -> tasks::TaskForm {
    tasks::TaskForm {
        title: "一季度招商引资红灯整改".into(),
        source_kind: "red_light".into(),
        source_ref: format!("{lead}/2027-03/A1"),
        requirement: "分析原因，制定整改措施".into(),
        outputs: "整改报告".into(),
        priority: "high".into(),
        deadline: deadline.into(),
        lead: tasks::UnitAssignment { unit: lead.into(), leader_name: "孙志刚".into(), person_name: "刘洋".into() },
        co_units: co.iter().map(|u| tasks::UnitAssignment { unit: u.to_string(), ..Default::default() }).collect(),
    }
}

fn step(name: &str, text: &str, version: i64) -> tasks::StepForm {
    tasks::StepForm { step: name.into(), text: text.into(), version, ..Default::default() }
}

/// A stored month score of a node for u01, as the engine stored it.
async fn score(w: &TestWorld, period: &str, node: &str) -> Option<f64> {
    let (info, _) = w.app.latest_scheme(2027).await.unwrap().unwrap();
    let rows = w.app.store.scores(2027, info.version, period).await.unwrap();
    rows.into_iter().find(|r| r.unit_id == "u01").and_then(|r| r.result["scores"][node].as_f64())
}

async fn a_task_from_a_red_light_to_its_evaluation(backend: Backend) {
    // Monday 2027-04-12.
    let Some(w) = TestWorld::start(backend, AppConfig::default(), at("2027-04-12 10:00")).await else { return };
    w.load_scheme(&scheme_2027_supervision()).await;
    let tr = Tr::default();
    let (office, leader, reporter, victim) =
        (w.actor("office").await, w.actor("leader").await, w.actor("reporter").await, w.actor("victim").await);
    let t = tasks::create(&w.app, &leader, &tr, &task("2027-04-30", "u01", &["u02"])).await.unwrap();
    assert_eq!((t.code.as_str(), t.state.as_str(), t.source_ref.as_str()), ("DB-2027-0001", "assigned", "u01/2027-03/A1"));
    assert_eq!(score(&w, "2027-04", "W1").await, Some(0.0), "assigned, not evaluated: evaluation is missing");

    // Each unit signs; the second signature starts the work.
    let t = tasks::take_step(&w.app, &reporter, &tr, t.id, &step("sign", "", t.version)).await.unwrap();
    assert_eq!(t.state, "assigned");
    let signed = tasks::StepForm { leader_name: "王副局长".into(), person_name: "李四".into(), ..step("sign", "", t.version) };
    let t = tasks::take_step(&w.app, &victim, &tr, t.id, &signed).await.unwrap();
    assert_eq!(t.state, "in_progress");
    assert_eq!((t.units[1].leader_name.as_str(), t.units[1].person_name.as_str()), ("王副局长", "李四"));
    let t = tasks::take_step(&w.app, &reporter, &tr, t.id, &step("report", "已召开专题会", t.version)).await.unwrap();
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
    let file = tasks::attach_evidence(&w.app, &reporter, &tr, t.id, "整改方案.pdf", pdf).await.unwrap();
    assert_eq!(file.owner_id, "DB-2027-0001");
    // The extension: asked by the lead unit, approved by the leader.
    let ask = tasks::StepForm { until: "2027-05-14".into(), ..step("request_extension", "需等待省厅批复", t.version) };
    let t = tasks::take_step(&w.app, &reporter, &tr, t.id, &ask).await.unwrap();
    assert_eq!((t.state.as_str(), t.requested_deadline.as_deref()), ("extension_requested", Some("2027-05-14")));
    let t = tasks::take_step(&w.app, &leader, &tr, t.id, &step("approve_extension", "同意", t.version)).await.unwrap();
    assert_eq!((t.state.as_str(), t.deadline.as_str(), t.original_deadline.as_str()), ("in_progress", "2027-05-14", "2027-04-30"));
    let t = tasks::take_step(&w.app, &reporter, &tr, t.id, &step("claim", "整改完成，报告见附件", t.version)).await.unwrap();
    // Returned once, claimed again, verified.
    let t = tasks::take_step(&w.app, &office, &tr, t.id, &step("return", "缺少整改台账", t.version)).await.unwrap();
    assert_eq!((t.state.as_str(), t.claimed_at.as_deref()), ("in_progress", None));
    let t = tasks::take_step(&w.app, &reporter, &tr, t.id, &step("claim", "已补充台账", t.version)).await.unwrap();
    let t = tasks::take_step(&w.app, &office, &tr, t.id, &step("verify", "", t.version)).await.unwrap();
    assert_eq!(t.state, "verified");
    let evaluate = tasks::StepForm {
        evaluations: vec![
            tasks::Evaluation { unit: "u01".into(), grade: "good".into(), score: Some(90.0) },
            tasks::Evaluation { unit: "u02".into(), grade: "good".into(), score: None },
        ],
        ..step("evaluate", "整改到位", t.version)
    };
    let t = tasks::take_step(&w.app, &office, &tr, t.id, &evaluate).await.unwrap();
    assert_eq!(t.state, "evaluated");
    assert_eq!((t.units[0].score, t.units[1].score), (Some(90.0), Some(85.0)), "a grade stands for its score");

    let history: Vec<String> =
        w.app.store.supervision_events(t.id).await.unwrap().into_iter().map(|e| format!("{} {}", e.step, e.actor)).collect();
    assert_eq!(
        history,
        [
            "assign leader",
            "sign reporter",
            "sign victim",
            "report reporter",
            "evidence reporter",
            "request_extension reporter",
            "approve_extension leader",
            "claim reporter",
            "return office",
            "claim reporter",
            "verify office",
            "evaluate office"
        ]
    );
    let (audit, _) = w.app.store.search_audit(&Default::default(), 0, 200).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action.starts_with("supervision.") && e.action != "supervision.metrics").count(), 12);

    // The metrics: April has the assignment and the evaluation (90), May the deadline
    // met on time; W1 in April = min(2, 90 / 50 - 0) = 1.8.
    let april: jixiao_core::period::Month = "2027-04".parse().unwrap();
    let may: jixiao_core::period::Month = "2027-05".parse().unwrap();
    let m = metrics::unit_months(&w.app, "u01", &[april, may]).await.unwrap();
    assert_eq!((m[0].1.assigned, m[0].1.evaluation()), (1, Some(90.0)));
    assert_eq!((m[1].1.on_time, m[1].1.overdue, m[1].1.completion_rate()), (1, 0, Some(1.0)));
    let entry = w.app.store.entry(2027, "u01", "W1", "2027-04").await.unwrap().unwrap();
    assert_eq!((entry.state.as_str(), entry.row.values["evaluation"].as_f64()), ("accepted", Some(90.0)));
    assert_eq!(score(&w, "2027-04", "W1").await, Some(1.8));
    assert_eq!(score(&w, "2027-04", "W").await, Some(1.8));
}

async fn scope_and_bad_input(backend: Backend) {
    let Some(w) = TestWorld::start(backend, AppConfig::default(), at("2027-04-12 10:00")).await else { return };
    w.load_scheme(&scheme_2027_supervision()).await;
    let tr = Tr::default();
    // A leader who oversees u01 only (分管).
    let mut tx = w.app.store.begin("test").await.unwrap();
    let new = NewUser {
        username: "fenguan".into(),
        display_name: "分管领导".into(),
        password: "Test-2027-pass".into(),
        unit_id: None,
        language: "zh-CN".into(),
    };
    let id = w.app.store.add_user(&mut tx, &new).await.unwrap();
    let scope = Scope::Units(["u01".to_string()].into()).to_json();
    w.app.store.set_roles(&mut tx, id, &[RoleGrant { role: Role::Leader.code().into(), scope }]).await.unwrap();
    tx.audit("test.user", "user", "fenguan", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let (office, fenguan, reporter, victim) =
        (w.actor("office").await, w.actor("fenguan").await, w.actor("reporter").await, w.actor("victim").await);

    let refused = |r: Result<jixiao_store::SupervisionTask, AppError>, field: &str, needle: &str| match r {
        Err(AppError::Invalid { message, details }) => {
            assert!(message.contains(needle), "{message}");
            assert_eq!(details["field"], field, "{message}");
        }
        other => panic!("expected a refusal of {field}: {other:?}"),
    };
    refused(tasks::create(&w.app, &office, &tr, &task("2027-04-11", "u01", &[])).await, "deadline", "2027-04-11 已过（今天是 2027-04-12）");
    refused(tasks::create(&w.app, &office, &tr, &task("2027-4-31", "u01", &[])).await, "deadline", "2027-4-31");
    refused(tasks::create(&w.app, &fenguan, &tr, &task("2027-04-30", "u02", &[])).await, "lead_unit", "区财政局");
    refused(tasks::create(&w.app, &fenguan, &tr, &task("2027-04-30", "u01", &["u02"])).await, "co_units", "区财政局”不在您的分管范围内");
    refused(tasks::create(&w.app, &office, &tr, &task("2027-04-30", "nope", &[])).await, "lead_unit", "nope");
    refused(
        tasks::create(&w.app, &office, &tr, &tasks::TaskForm { title: " ".into(), ..task("2027-04-30", "u01", &[]) }).await,
        "title",
        "事项名称",
    );
    let long = tasks::TaskForm { title: "长".repeat(101), ..task("2027-04-30", "u01", &[]) };
    refused(tasks::create(&w.app, &office, &tr, &long).await, "title", "最多 100 个字");
    assert!(matches!(tasks::create(&w.app, &reporter, &tr, &task("2027-04-30", "u01", &[])).await, Err(AppError::Forbidden)));
    assert!(w.app.store.supervision_tasks(None).await.unwrap().is_empty(), "nothing was stored");

    let mine = tasks::create(&w.app, &fenguan, &tr, &task("2027-04-30", "u01", &[])).await.unwrap();
    let theirs = tasks::create(&w.app, &office, &tr, &task("2027-04-30", "u02", &[])).await.unwrap();
    // Another unit's task is not found, for seeing and for acting alike.
    assert!(matches!(tasks::visible(&w.app, &reporter, theirs.id).await, Err(AppError::NotFound)));
    assert!(matches!(tasks::take_step(&w.app, &reporter, &tr, theirs.id, &step("sign", "", 0)).await, Err(AppError::NotFound)));
    assert!(matches!(tasks::visible(&w.app, &fenguan, theirs.id).await, Err(AppError::NotFound)), "not among the leader's units");
    assert!(matches!(tasks::visible(&w.app, &victim, mine.id).await, Err(AppError::NotFound)));
    let seen: Vec<String> =
        ledger::rows(&w.app, &fenguan, &tr, &ledger::LedgerFilter::default()).await.unwrap().into_iter().map(|r| r.task.code).collect();
    assert_eq!(seen, [mine.code.as_str()]);
    let bad_filter = ledger::LedgerFilter { unit: "u02".into(), ..Default::default() };
    assert!(matches!(ledger::rows(&w.app, &fenguan, &tr, &bad_filter).await, Err(AppError::Invalid { .. })));
    // A stale form is a conflict and changes nothing.
    let signed = tasks::take_step(&w.app, &reporter, &tr, mine.id, &step("sign", "", mine.version)).await.unwrap();
    match tasks::take_step(&w.app, &reporter, &tr, mine.id, &step("report", "进展", mine.version)).await {
        Err(AppError::Conflict(m)) => assert!(m.contains("DB-2027-0001"), "{m}"),
        other => panic!("a stale form: {other:?}"),
    }
    // Steps of other roles, in the wrong state, and without their text.
    assert!(matches!(tasks::take_step(&w.app, &reporter, &tr, mine.id, &step("verify", "", 0)).await, Err(AppError::Forbidden)));
    assert!(matches!(tasks::take_step(&w.app, &office, &tr, mine.id, &step("verify", "", 0)).await, Err(AppError::Invalid { .. })));
    assert!(matches!(tasks::take_step(&w.app, &reporter, &tr, mine.id, &step("claim", " ", 0)).await, Err(AppError::Invalid { .. })));
    let past = tasks::StepForm { until: "2027-04-01".into(), ..step("request_extension", "理由", 0) };
    assert!(matches!(tasks::take_step(&w.app, &reporter, &tr, mine.id, &past).await, Err(AppError::Invalid { .. })));
    let after = w.app.store.supervision_task(mine.id).await.unwrap().unwrap();
    assert_eq!((after.state.as_str(), after.version), ("in_progress", signed.version), "nothing changed");
    // The leader of u01 evaluates its tasks; the evaluation needs every unit.
    assert_eq!(tasks::possible_steps(&fenguan, &after), Vec::<&str>::new());
    assert_eq!(tasks::possible_steps(&reporter, &after), ["report", "request_extension", "claim"]);
}

async fn the_overdue_pass_reminds_and_deducts(backend: Backend) {
    let Some(w) = TestWorld::start(backend, AppConfig::default(), at("2027-04-12 10:00")).await else { return };
    w.load_scheme(&scheme_2027_supervision()).await;
    let tr = Tr::default();
    let office = w.actor("office").await;
    // Due Wednesday 4-14: yellow from Monday (two working days left).
    let t = tasks::create(&w.app, &office, &tr, &task("2027-04-14", "u01", &[])).await.unwrap();
    let pass = overdue::run(&w.app, &office).await.unwrap();
    // u01's reporter and head are reminded; its staff is not.
    assert_eq!((pass.reminders, pass.deductions), (2, 0));
    assert_eq!(overdue::run(&w.app, &office).await.unwrap().reminders, 0, "once a day");
    let (messages, _) = w.app.store.outbox(Some("supervision"), None, 10, 0).await.unwrap();
    assert!(messages.iter().all(|m| m.body.contains("DB-2027-0001") && m.body.contains("将于2027-04-14到期")), "{messages:?}");
    // Thursday 4-15: red; one deduction of 0.5 for the lead unit, dated the deadline.
    w.app.clock.advance(chrono::Duration::days(3));
    let pass = overdue::run(&w.app, &office).await.unwrap();
    assert_eq!((pass.reminders, pass.deductions), (2, 1));
    assert_eq!(overdue::run(&w.app, &office).await.unwrap().deductions, 0, "once per task");
    let records = w.app.store.records(2027).await.unwrap();
    let r: Vec<_> = records.iter().filter(|r| r.row.indicator == "Y1").collect();
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].row.unit.as_str(), r[0].row.date.as_str(), r[0].row.points), ("u01", "2027-04-14", 0.5));
    assert!(w.app.store.supervision_task(t.id).await.unwrap().unwrap().deducted);
    assert_eq!(score(&w, "2027-04", "Y").await, Some(0.5));
    let m = metrics::unit_months(&w.app, "u01", &["2027-04".parse().unwrap()]).await.unwrap();
    assert_eq!((m[0].1.overdue, m[0].1.completion_rate()), (1, Some(0.0)));
    let entry = w.app.store.entry(2027, "u01", "W1", "2027-04").await.unwrap().unwrap();
    assert_eq!(entry.row.values["overdue"].as_f64(), Some(1.0));
    // Someone without the office's role cannot run it.
    assert!(matches!(overdue::run(&w.app, &w.actor("leader").await).await, Err(AppError::Forbidden)));
}
