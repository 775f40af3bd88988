//! The demo district's supervision tasks (督办事项): six tasks of the demo year in
//! every state — finished and evaluated, awaiting the leader's evaluation, claimed and
//! awaiting the office's check, asking for an extension, overdue, and just assigned
//! from a red light — and the bonus `W` 督办落实 whose indicators read their figures
//! (`filled_by: "supervision"`: `W1` tasks finished on time less overdue ones, `W2`
//! the average evaluation), with the scheme's rule that an overdue task costs its
//! lead unit 0.5 on `Y1` 督办事项逾期.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use jixiao_app::App;
use jixiao_core::scheme::{NodeDef, SchemeFile, SupervisionRule};
use jixiao_store::{NewSupervisionTask, NewTaskEvent, TaskUnitRow};
use serde_json::json;

/// Adds the supervision bonus `W` (`W1`, `W2`) and the overdue rule to the demo scheme.
pub fn add_indicator(file: &mut SchemeFile) -> anyhow::Result<()> {
    let node: NodeDef = serde_json::from_value(json!({
        "id": "W", "name": "督办落实", "kind": "bonus", "cap": 2,
        "children": [{
            "id": "W1", "name": "督办事项按期办结", "filled_by": "supervision",
            "fields": [
                {"key": "on_time", "name": "按期办结数", "type": "integer", "agg": "sum", "min": 0},
                {"key": "overdue", "name": "逾期数", "type": "integer", "agg": "sum", "min": 0}
            ],
            "formula": "max(0, min(1.5, on_time * 0.5) - overdue * 0.5)",
            "assign": [{"group": "dept"}]
        }, {
            "id": "W2", "name": "督办事项办理评价", "filled_by": "supervision",
            "fields": [{"key": "evaluation", "name": "平均评价", "agg": "avg", "min": 0, "max": 100}],
            "formula": "max(0, evaluation - 60) / 80",
            "assign": [{"group": "dept"}]
        }]
    }))?;
    file.tree.push(node);
    file.supervision = Some(SupervisionRule { deduction: "Y1".into(), overdue_points: 0.5 });
    Ok(())
}

/// One demo task: what it is and how far it went.
struct Demo {
    title: &'static str,
    lead: &'static str,
    co: &'static [&'static str],
    source: (&'static str, String),
    /// Days before the demo's day it was assigned.
    assigned_ago: i64,
    due: Due,
    /// The steps taken: (step, days after assignment, acting unit, text).
    steps: Vec<(&'static str, i64, Option<&'static str>, &'static str)>,
}

/// When a demo task is due.
enum Due {
    /// Days after it was assigned (tasks finished, or meant to be overdue).
    AfterAssigned(i64),
    /// Days after today (open tasks, so they are not overdue whenever the demo runs).
    FromToday(i64),
}

/// Loads the tasks (each in its own audited transaction); the number loaded.
pub async fn load(app: &App, file: &SchemeFile, year: i32) -> anyhow::Result<usize> {
    let id = |name: &str| file.units.iter().find(|u| u.name == name).map(|u| u.id.clone()).unwrap_or_else(|| name.to_string());
    let now = app.clock.local_now();
    // Assigned in the demo year: up to today, or in the last weeks of a past year.
    let today = now.min(end_of(year));
    let red = |unit: &str, months_back: i64| {
        let d = today.date() - chrono::Duration::days(30 * months_back);
        format!("{}/{}-{:02}/A1", id(unit), d.year(), d.month())
    };
    let demos = vec![
        Demo {
            title: "重点项目开工率红灯整改",
            lead: "区发改局",
            co: &["区住建局"],
            source: ("red_light", red("区发改局", 2)),
            assigned_ago: 50,
            due: Due::AfterAssigned(20),
            steps: vec![
                ("sign", 1, Some("区发改局"), ""),
                ("sign", 2, Some("区住建局"), ""),
                ("report", 8, Some("区发改局"), "已召开专题调度会，梳理未开工项目 6 个"),
                ("claim", 18, Some("区发改局"), "6 个项目全部开工，附开工报告"),
                ("verify", 19, None, "现场核验属实"),
                ("evaluate", 21, None, "整改迅速，成效明显"),
            ],
        },
        Demo {
            title: "背街小巷环境整治",
            lead: "区城管执法局",
            co: &[],
            source: ("manual", String::new()),
            assigned_ago: 30,
            due: Due::AfterAssigned(25),
            steps: vec![
                ("sign", 1, Some("区城管执法局"), ""),
                ("report", 10, Some("区城管执法局"), "完成 12 条背街小巷整治"),
                ("claim", 22, Some("区城管执法局"), "整治任务全部完成"),
                ("verify", 24, None, ""),
            ],
        },
        Demo {
            title: "重大项目前期手续办理",
            lead: "区发改局",
            co: &[],
            source: ("manual", String::new()),
            assigned_ago: 20,
            due: Due::AfterAssigned(18),
            steps: vec![("sign", 1, Some("区发改局"), ""), ("claim", 15, Some("区发改局"), "8 个项目完成立项和用地预审")],
        },
        Demo {
            title: "财政资金绩效自评",
            lead: "区财政局",
            co: &["区发改局"],
            source: ("manual", String::new()),
            assigned_ago: 15,
            due: Due::FromToday(5),
            steps: vec![
                ("sign", 1, Some("区财政局"), ""),
                ("sign", 1, Some("区发改局"), ""),
                ("report", 6, Some("区财政局"), "已完成 40 个项目的自评"),
                ("request_extension", 10, Some("区财政局"), "部分项目资料需省厅反馈"),
            ],
        },
        Demo {
            title: "老旧小区改造进度滞后",
            lead: "区住建局",
            co: &[],
            source: ("red_light", red("区住建局", 1)),
            assigned_ago: 25,
            due: Due::AfterAssigned(12),
            steps: vec![("sign", 2, Some("区住建局"), ""), ("report", 9, Some("区住建局"), "3 个小区已进场施工")],
        },
        Demo {
            title: "招商引资到位资金红灯整改",
            lead: "区发改局",
            co: &[],
            source: ("red_light", red("区发改局", 1)),
            assigned_ago: 2,
            due: Due::FromToday(14),
            steps: vec![],
        },
    ];
    let stored = |t: NaiveDateTime| app.clock.to_stored(t);
    let at = |base: NaiveDateTime, days: i64| stored(base + chrono::Duration::days(days));
    for d in &demos {
        let assigned = today - chrono::Duration::days(d.assigned_ago);
        let deadline = match d.due {
            Due::AfterAssigned(n) => (assigned + chrono::Duration::days(n)).date(),
            Due::FromToday(n) => now.date() + chrono::Duration::days(n),
        };
        let units: Vec<TaskUnitRow> = std::iter::once((d.lead, true))
            .chain(d.co.iter().map(|c| (*c, false)))
            .map(|(name, lead)| TaskUnitRow {
                unit_id: id(name),
                lead,
                leader_name: if lead { "孙志刚".into() } else { String::new() },
                person_name: String::new(),
                ..Default::default()
            })
            .collect();
        let new = NewSupervisionTask {
            year,
            title: d.title.into(),
            source_kind: d.source.0.into(),
            source_ref: d.source.1.clone(),
            requirement: format!("{}：查明原因，落实措施，按期报告办理结果。", d.title),
            outputs: "办理情况报告".into(),
            priority: if d.source.0 == "red_light" { "high".into() } else { "normal".into() },
            deadline: deadline.to_string(),
            units,
            created_at: Some(stored(assigned)),
        };
        let mut tx = app.store.begin("leader").await?;
        let mut t = app.store.create_supervision_task(&mut tx, &new).await?;
        for (step, day, unit, text) in &d.steps {
            let when = at(assigned, *day);
            let from = t.state.clone();
            let unit_id = unit.map(id);
            let mut data = json!({});
            match *step {
                "sign" => {
                    if let Some(u) = t.units.iter_mut().find(|u| Some(&u.unit_id) == unit_id.as_ref()) {
                        u.signed_at = Some(when.clone());
                        u.person_name = "刘洋".into();
                    }
                    if t.units.iter().all(|u| u.signed_at.is_some()) {
                        t.state = "in_progress".into();
                    }
                }
                "request_extension" => {
                    let until = deadline + chrono::Duration::days(14);
                    t.requested_deadline = Some(until.to_string());
                    t.state = "extension_requested".into();
                    data = json!({"until": until.to_string(), "deadline": t.deadline});
                }
                "claim" => {
                    t.claimed_at = Some(when.clone());
                    t.state = "claimed".into();
                }
                "verify" => {
                    t.verified_at = Some(when.clone());
                    t.state = "verified".into();
                }
                "evaluate" => {
                    for (u, score) in t.units.iter_mut().zip([92.0, 85.0]) {
                        u.score = Some(score);
                    }
                    t.evaluated_at = Some(when.clone());
                    t.evaluation_comment = text.to_string();
                    t.state = "evaluated".into();
                    data = json!({"evaluations": t.units.iter().map(|u| json!({"unit": u.unit_id, "score": u.score})).collect::<Vec<_>>()});
                }
                _ => {}
            }
            t.version = app.store.update_supervision_task(&mut tx, &t).await?;
            let event = NewTaskEvent {
                step: step.to_string(),
                from_state: Some(from),
                to_state: t.state.clone(),
                unit_id,
                text: text.to_string(),
                data,
                at: Some(when),
            };
            app.store.add_supervision_event(&mut tx, t.id, &event).await?;
        }
        tx.audit(
            "supervision.assign",
            "supervision_task",
            &t.code,
            None,
            Some(json!({"title": t.title, "state": t.state, "reason": "demo"})),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(demos.len())
}

fn end_of(year: i32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(year, 12, 28).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default()
}
