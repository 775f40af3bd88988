//! Records registered in the browser and bonus applications, as use cases: the office
//! and the entering department register, the points rule holds, an edit or a
//! cancellation needs a reason and a fresh version, closed months refuse, a unit
//! applies and the office's approval moves the unit's total.

use jixiao_app::records::{self, ApplicationInput, RecordInput};
use jixiao_app::testing::TestWorld;
use jixiao_app::{AppConfig, AppError, Tr, periods};
use jixiao_store::{Backend, PeriodState};
use serde_json::json;

use crate::{at, backend_tests};

backend_tests!(
    office_and_entering_department_register,
    points_outside_the_rule_and_bad_input_change_nothing,
    edits_and_cancellations_need_a_reason_and_a_fresh_version,
    closed_months_refuse_records,
    an_approved_application_moves_the_total,
    units_see_only_their_own,
    topic_report_sums_by_unit_month_and_topic,
);

/// A1 for departments, bonuses X1 (上级表彰) and X2 (创新项目, 3 points) under a cap
/// of 5, deduction Y5 (廉政纪律, 2 points each) entered by u02.
pub fn scheme() -> jixiao_core::scheme::SchemeFile {
    serde_json::from_value(json!({
        "year": 2027, "name": "测试方案",
        "groups": [{"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"},
                  {"id": "s01", "name": "城关街道", "group": "street"}],
        "grades": [{"name": "合格"}],
        "tree": [
            {"id": "A", "name": "职能履行", "points": 10, "children": [
                {"id": "A1", "name": "到位资金", "points": 10,
                 "fields": [{"key": "actual", "name": "累计到位资金", "min": 0, "max": 1000}],
                 "params": {"target": 100},
                 "formula": "min(actual / target, 1) * points", "assign": [{"group": "dept"}]}]},
            {"id": "X", "name": "创新创优加分", "kind": "bonus", "cap": 5, "children": [
                {"id": "X1", "name": "上级表彰", "source": "records", "formula": "record_points", "assign": [{"group": "dept"}]},
                {"id": "X2", "name": "创新项目", "source": "records", "points": 3, "formula": "min(record_points, 3)",
                 "assign": [{"group": "dept"}]}]},
            {"id": "Y", "name": "违规失职减分", "kind": "deduction", "children": [
                {"id": "Y5", "name": "违反廉政纪律", "source": "records", "points": 6, "formula": "record_count * 2",
                 "entered_by": "u02", "assign": [{"group": "dept"}]}]}
        ]
    }))
    .expect("the records test scheme")
}

pub fn input(unit: &str, indicator: &str, date: &str, points: &str, topic: &str) -> RecordInput {
    RecordInput {
        unit: unit.into(),
        indicator: indicator.into(),
        date: date.into(),
        points: points.into(),
        topic: topic.into(),
        reason: "获市级表彰".into(),
        responsible: "张三".into(),
    }
}

/// u01's stored total of `period`.
async fn total(w: &TestWorld, period: &str) -> f64 {
    let version = w.app.store.scheme(2027, None).await.unwrap().info.version;
    let rows = w.app.store.scores(2027, version, period).await.unwrap();
    rows.iter().find(|r| r.unit_id == "u01").map_or(0.0, |r| r.result["total"].as_f64().unwrap())
}

async fn world(backend: Backend) -> Option<TestWorld> {
    let w = TestWorld::start(backend, AppConfig::default(), at("2027-04-12 10:00")).await?;
    w.load_scheme(&scheme()).await;
    Some(w)
}

fn invalid(result: Result<impl std::fmt::Debug, AppError>) -> String {
    match result {
        Err(AppError::Invalid { message, .. }) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn office_and_entering_department_register(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let tr = Tr::default();
    let office = w.actor("office").await;
    // No data yet: the total is the bonus alone.
    let r = records::register(&w.app, &office, &tr, &input("u01", "X1", "2027-03-10", "2", "commendation")).await.unwrap();
    assert_eq!((r.unit_id.as_str(), r.points, r.state.as_str(), r.responsible.as_str()), ("u01", 2.0, "active", "张三"));
    assert_eq!(total(&w, "2027-03").await, 2.0, "A1 missing scores 0, X1 adds 2");
    // The assessor of u02 enters Y5 (entered_by u02) for any unit, but not X1.
    let assessor = w.actor("assessor").await;
    let y = records::register(&w.app, &assessor, &tr, &input("u01", "Y5", "2027-03-20", "2", "discipline")).await.unwrap();
    assert_eq!(total(&w, "2027-03").await, 0.0, "2 bonus − 2 deduction");
    assert!(matches!(
        records::register(&w.app, &assessor, &tr, &input("u01", "X1", "2027-03-10", "1", "commendation")).await,
        Err(AppError::Forbidden)
    ));
    // A unit does not book its own records; a leader neither.
    for name in ["reporter", "head", "leader"] {
        let who = w.actor(name).await;
        assert!(matches!(
            records::register(&w.app, &who, &tr, &input("u01", "X1", "2027-03-10", "1", "commendation")).await,
            Err(AppError::Forbidden)
        ));
    }
    assert_eq!(w.app.store.registered_records(2027).await.unwrap().len(), 2);
    let (audit, _) = w.app.store.search_audit(&Default::default(), 0, 100).await.unwrap();
    let registered = audit.iter().filter(|e| e.action == "record.register").count();
    assert_eq!(registered, 2);
    assert!(audit.iter().any(|e| e.action == "record.register" && e.actor == "assessor" && e.object_id == y.id.to_string()));
}

async fn points_outside_the_rule_and_bad_input_change_nothing(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let tr = Tr::default();
    let office = w.actor("office").await;
    let reg = |i: RecordInput| {
        let (app, office, tr) = (&w.app, &office, &tr);
        async move { records::register(app, office, tr, &i).await }
    };
    // The cap of X is 5; Y has no cap, so Y5's own 6 points bound a record.
    assert_eq!(invalid(reg(input("u01", "X1", "2027-03-10", "5.5", "commendation")).await), "分值超出规则：每条最多 5 分。");
    assert_eq!(invalid(reg(input("u01", "Y5", "2027-03-10", "7", "discipline")).await), "分值超出规则：每条最多 6 分。");
    assert_eq!(invalid(reg(input("u01", "X1", "2027-03-10", "0", "commendation")).await), "分值须大于 0（加分或减分由指标决定）。");
    assert_eq!(invalid(reg(input("u01", "X1", "2027-03-10", "1.005", "commendation")).await), "分值最多两位小数。");
    assert_eq!(invalid(reg(input("u01", "X1", "2027-03-10", "两分", "commendation")).await), "“分值”须是数字。");
    assert_eq!(invalid(reg(input("u01", "A1", "2027-03-10", "1", "other")).await), "指标“A1”不按记录计分，不能登记加减分记录。");
    assert_eq!(invalid(reg(input("s01", "X1", "2027-03-10", "1", "other")).await), "指标“X1”不考核单位“s01”。");
    assert_eq!(invalid(reg(input("u99", "X1", "2027-03-10", "1", "other")).await), "单位“u99”不在本年度考核方案中。");
    assert_eq!(invalid(reg(input("u01", "X1", "2027-3-10", "1", "other")).await), "日期“2027-3-10”无效，请按 2027-03-10 的格式填写。");
    assert_eq!(invalid(reg(input("u01", "X1", "2027-05-10", "1", "other")).await), "日期“2027-05-10”晚于今天。");
    assert_eq!(invalid(reg(input("u01", "X1", "2027-03-10", "1", "weather")).await), "未知的专题“weather”。");
    let mut long = input("u01", "X1", "2027-03-10", "1", "other");
    long.responsible = "张".repeat(51);
    assert_eq!(invalid(reg(long).await), "“责任人”过长：最多 50 个字，现有 51 个。");
    let mut empty = input("u01", "X1", "2027-03-10", "1", "other");
    empty.reason = "  ".into();
    assert_eq!(invalid(reg(empty).await), "请填写“事由”。");
    assert!(w.app.store.registered_records(2027).await.unwrap().is_empty(), "nothing written");
    assert!(w.app.store.records(2027).await.unwrap().is_empty(), "nothing scored");
}

async fn edits_and_cancellations_need_a_reason_and_a_fresh_version(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let tr = Tr::default();
    let office = w.actor("office").await;
    let r = records::register(&w.app, &office, &tr, &input("u01", "X1", "2027-03-10", "2", "commendation")).await.unwrap();
    assert_eq!(
        invalid(records::edit(&w.app, &office, &tr, r.id, r.version, &input("u01", "X1", "2027-03-10", "3", "commendation"), "").await),
        "请填写“修改或作废原因”。"
    );
    let edited = records::edit(&w.app, &office, &tr, r.id, r.version, &input("u01", "X1", "2027-03-10", "3", "commendation"), "级别录错")
        .await
        .unwrap();
    assert_eq!((edited.points, edited.version), (3.0, 2));
    assert_eq!(total(&w, "2027-03").await, 3.0);
    // The form read at version 1 is stale now.
    match records::edit(&w.app, &office, &tr, r.id, 1, &input("u01", "X1", "2027-03-10", "4", "commendation"), "再改").await {
        Err(AppError::Conflict(m)) => assert_eq!(m, "该条目已被他人修改，请刷新页面后重试。"),
        other => panic!("a stale form is a conflict: {other:?}"),
    }
    assert!(matches!(records::cancel(&w.app, &office, &tr, r.id, 1, "重复").await, Err(AppError::Conflict(_))));
    assert_eq!(total(&w, "2027-03").await, 3.0, "nothing changed");
    let cancelled = records::cancel(&w.app, &office, &tr, r.id, 2, "重复登记").await.unwrap();
    assert_eq!((cancelled.state.as_str(), cancelled.cancel_reason.as_str()), ("cancelled", "重复登记"));
    assert_eq!(total(&w, "2027-03").await, 0.0, "no longer scored");
    let (audit, _) = w.app.store.search_audit(&Default::default(), 0, 100).await.unwrap();
    let edit = audit.iter().find(|e| e.action == "record.edit").unwrap();
    assert!(edit.after_json.as_deref().unwrap().contains("级别录错"), "the reason is in the trail");
    assert!(audit.iter().any(|e| e.action == "record.cancel"));
}

async fn closed_months_refuse_records(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let tr = Tr::default();
    let office = w.actor("office").await;
    let r = records::register(&w.app, &office, &tr, &input("u01", "X1", "2027-03-10", "2", "commendation")).await.unwrap();
    periods::set_state(&w.app, &office, &tr, "2027-03".parse().unwrap(), PeriodState::Closed).await.unwrap();
    let closed = "2027-03 已关账：该月的记录不能直接登记或修改，请考核办重新开放该月，或通过更正申请办理。";
    assert_eq!(invalid(records::register(&w.app, &office, &tr, &input("u01", "X1", "2027-03-11", "1", "other")).await), closed);
    assert_eq!(invalid(records::cancel(&w.app, &office, &tr, r.id, r.version, "重复").await), closed);
    // Moving it out of the closed month is a change of the closed month too.
    assert_eq!(
        invalid(records::edit(&w.app, &office, &tr, r.id, r.version, &input("u01", "X1", "2027-04-01", "2", "commendation"), "日期").await),
        closed
    );
    assert_eq!(w.app.store.registered_record(r.id).await.unwrap(), r, "nothing changed");
}

fn application(points: &str) -> ApplicationInput {
    ApplicationInput {
        unit: "u01".into(),
        category: "innovation".into(),
        indicator: "X2".into(),
        date: "2027-04-02".into(),
        title: "“一网通办”改革".into(),
        basis: "获市级推广".into(),
        points: points.into(),
    }
}

async fn an_approved_application_moves_the_total(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let tr = Tr::default();
    let (reporter, office) = (w.actor("reporter").await, w.actor("office").await);
    assert_eq!(invalid(records::apply(&w.app, &reporter, &tr, &application("6")).await), "分值超出规则：每条最多 5 分。");
    let a = records::apply(&w.app, &reporter, &tr, &application("2.5")).await.unwrap();
    assert_eq!((a.state.as_str(), a.claimed_points), ("submitted", 2.5));
    // Another unit's reporter cannot apply for u01, nor can the office decide above the claim.
    assert!(matches!(records::apply(&w.app, &w.actor("victim").await, &tr, &application("1")).await, Err(AppError::Forbidden)));
    assert!(matches!(records::decide(&w.app, &reporter, &tr, a.id, 1, true, "2", "").await, Err(AppError::Forbidden)));
    assert_eq!(invalid(records::decide(&w.app, &office, &tr, a.id, 1, true, "3", "").await), "核定分值不能超过申报的 2.5 分。");
    assert_eq!(invalid(records::decide(&w.app, &office, &tr, a.id, 1, false, "", "").await), "驳回须填写原因。");
    let before = total(&w, "2027-04").await;
    // Partial approval: 2 of the 2.5 claimed.
    let approved = records::decide(&w.app, &office, &tr, a.id, 1, true, "2", "按市级标准核定").await.unwrap();
    assert_eq!((approved.state.as_str(), approved.approved_points), ("approved", Some(2.0)));
    let record = w.app.store.registered_record(approved.record_id.unwrap()).await.unwrap();
    assert_eq!(
        (record.unit_id.as_str(), record.indicator_id.as_str(), record.points, record.topic.as_str()),
        ("u01", "X2", 2.0, "innovation")
    );
    assert_eq!(record.application_id, Some(a.id));
    assert_eq!(total(&w, "2027-04").await, before + 2.0);
    assert_eq!(invalid(records::decide(&w.app, &office, &tr, a.id, 2, false, "", "again").await), "该申报已批准，不能再次审核。");
}

async fn units_see_only_their_own(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let tr = Tr::default();
    let office = w.actor("office").await;
    let mine = records::register(&w.app, &office, &tr, &input("u01", "X1", "2027-03-10", "2", "commendation")).await.unwrap();
    let theirs = records::register(&w.app, &office, &tr, &input("u02", "X1", "2027-03-10", "1", "commendation")).await.unwrap();
    let reporter = w.actor("reporter").await;
    let seen: Vec<i64> = records::records(&w.app, &reporter, 2027, None).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(seen, vec![mine.id]);
    assert!(matches!(records::record(&w.app, &reporter, theirs.id).await, Err(AppError::NotFound)), "another unit's id");
    assert_eq!(records::records(&w.app, &w.actor("leader").await, 2027, None).await.unwrap().len(), 2);
    assert!(matches!(
        records::edit(&w.app, &reporter, &tr, mine.id, 1, &input("u01", "X1", "2027-03-10", "3", "commendation"), "改").await,
        Err(AppError::Forbidden)
    ));
    let a =
        records::apply(&w.app, &w.actor("victim").await, &tr, &ApplicationInput { unit: "u02".into(), ..application("1") }).await.unwrap();
    assert!(matches!(records::application(&w.app, &reporter, a.id).await, Err(AppError::NotFound)));
    assert!(records::applications(&w.app, &reporter, 2027, None).await.unwrap().is_empty());
}

async fn topic_report_sums_by_unit_month_and_topic(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let tr = Tr::default();
    let office = w.actor("office").await;
    for (unit, ind, date, points, topic) in [
        ("u01", "X2", "2027-03-10", "1", "innovation"),
        ("u01", "X2", "2027-03-20", "1.5", "innovation"),
        ("u01", "Y5", "2027-03-21", "2", "discipline"),
        ("u02", "X1", "2027-04-01", "1", "research"),
        ("u02", "X1", "2027-04-02", "2", "commendation"),
    ] {
        records::register(&w.app, &office, &tr, &input(unit, ind, date, points, topic)).await.unwrap();
    }
    let lines: Vec<_> = records::topic_report(&w.app, &office, 2027)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.unit_id, l.month, l.topic.code(), l.count, l.points))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("u01".to_string(), "2027-03".to_string(), "innovation", 2, 2.5),
            ("u01".to_string(), "2027-03".to_string(), "discipline", 1, 2.0),
            ("u02".to_string(), "2027-04".to_string(), "research", 1, 1.0),
        ],
        "commendations are not a reported topic"
    );
    let book = jixiao_app::xlsx::topics::write(&tr, 2027, &records::topic_report(&w.app, &office, 2027).await.unwrap()).unwrap();
    assert!(jixiao_app::xlsx::is_xlsx(&book));
    // The reporter of u01 sees only its own lines.
    let own = records::topic_report(&w.app, &w.actor("reporter").await, 2027).await.unwrap();
    assert!(own.iter().all(|l| l.unit_id == "u01") && own.len() == 2);
}
