//! Supervision tasks over HTTP: the forms with their CSRF tokens, the steps of the
//! lifecycle, evidence, the ledger and its workbook, the API; bad input — a deadline
//! in the past, a unit outside the leader's scope, a stale form, another unit's task
//! in the URL — refused with a clear message and nothing changed.

use serde_json::{Value, json};

use crate::common::{Session, TestApp, backend_tests, sheet, text};

backend_tests!(a_task_through_the_pages, bad_input_is_refused, the_api_and_the_prefilled_form);

async fn scheme(app: &TestApp) {
    let mut file = jixiao_app::testing::scheme_2027_supervision();
    file.year = chrono::Datelike::year(&app.app.clock.today());
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.import_scheme(&mut tx, &file, "test").await.unwrap();
    tx.audit("test.scheme", "scheme", "x", None, None).await.unwrap();
    tx.commit().await.unwrap();
}

fn days(app: &TestApp, n: i64) -> String {
    (app.app.clock.today() + chrono::Duration::days(n)).to_string()
}

async fn assign(app: &TestApp, who: &Session, deadline: &str, lead: &str, co: &[&str]) -> reqwest::Response {
    let mut form = vec![
        ("title", "推进招商项目落地"),
        ("source_kind", "manual"),
        ("requirement", "月底前完成签约"),
        ("outputs", "签约文件"),
        ("priority", "urgent"),
        ("deadline", deadline),
        ("lead_unit", lead),
        ("lead_leader", "孙志刚"),
        ("lead_person", "刘洋"),
    ];
    form.extend(co.iter().map(|c| ("co_units", *c)));
    app.post(Some(who), "/supervision", &form).await
}

async fn latest(app: &TestApp) -> jixiao_store::SupervisionTask {
    app.store.supervision_tasks(None).await.unwrap().into_iter().next().expect("a task")
}

async fn step(app: &TestApp, who: &Session, id: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post(Some(who), &format!("/supervision/tasks/{id}"), fields).await
}

async fn a_task_through_the_pages(app: TestApp) {
    scheme(&app).await;
    let (office, reporter, victim, leader) =
        (app.session("office").await, app.session("reporter").await, app.session("victim").await, app.session("leader").await);
    let deadline = days(&app, 30);
    let r = assign(&app, &leader, &deadline, "u01", &["u02"]).await;
    assert_eq!(r.status(), 303);
    let t = latest(&app).await;
    assert_eq!(r.headers()["location"], format!("/supervision/tasks/{}?flash=supervision_assigned", t.id));
    assert_eq!(t.units.iter().map(|u| (u.unit_id.as_str(), u.lead)).collect::<Vec<_>>(), [("u01", true), ("u02", false)]);

    // The unit sees it, with the sign form carrying the CSRF token and the version.
    let page = app.get(Some(&reporter), &format!("/supervision/tasks/{}", t.id)).await.text().await.unwrap();
    assert!(page.contains("id=\"step-sign\"") && page.contains(&format!("value=\"{}\"", reporter.csrf)), "{page}");
    let v = t.version.to_string();
    assert_eq!(step(&app, &reporter, t.id, &[("step", "sign"), ("version", &v), ("person_name", "刘洋")]).await.status(), 303);
    // The same form again is stale: 409, nothing changed.
    let stale = step(&app, &reporter, t.id, &[("step", "report"), ("version", &v), ("text", "x")]).await;
    assert_eq!(stale.status(), 409);
    assert!(stale.text().await.unwrap().contains("DB-"), "the conflict names the task");
    assert_eq!(app.store.supervision_events(t.id).await.unwrap().len(), 2);
    let sign = step(&app, &victim, t.id, &[("step", "sign")]).await;
    assert_eq!(sign.status(), 303);
    assert_eq!(latest(&app).await.state, "in_progress");
    assert_eq!(step(&app, &reporter, t.id, &[("step", "report"), ("text", "已完成前期对接")]).await.status(), 303);

    // Evidence, downloadable by who sees the task only.
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n".to_vec();
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(pdf).file_name("对接纪要.pdf"));
    let r = app
        .http
        .post(app.url(&format!("/supervision/tasks/{}/evidence?_csrf={}", t.id, reporter.csrf)))
        .header("cookie", &reporter.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let file = app.store.attachments("supervision_evidence", std::slice::from_ref(&t.code)).await.unwrap().remove(0);
    assert_eq!(app.get(Some(&office), &format!("/evidence/{}", file.id)).await.status(), 200);
    let other = app.session("staff").await;
    assert_eq!(app.get(Some(&other), &format!("/evidence/{}", file.id)).await.status(), 200, "staff of the lead unit");

    // Extension asked, approved by the leader; claimed, verified, evaluated.
    let until = days(&app, 40);
    assert_eq!(step(&app, &reporter, t.id, &[("step", "request_extension"), ("until", &until), ("text", "等待批复")]).await.status(), 303);
    assert_eq!(step(&app, &leader, t.id, &[("step", "approve_extension"), ("text", "同意")]).await.status(), 303);
    assert_eq!(latest(&app).await.deadline, until);
    assert_eq!(step(&app, &reporter, t.id, &[("step", "claim"), ("text", "已签约")]).await.status(), 303);
    assert_eq!(step(&app, &office, t.id, &[("step", "verify")]).await.status(), 303);
    let r = step(&app, &office, t.id, &[("step", "evaluate"), ("grade.u01", "excellent"), ("score.u02", "80"), ("text", "好")]).await;
    assert_eq!(r.status(), 303);
    let done = latest(&app).await;
    assert_eq!((done.state.as_str(), done.units[0].score, done.units[1].score), ("evaluated", Some(95.0), Some(80.0)));
    let page = app.get(Some(&reporter), &format!("/supervision/tasks/{}", t.id)).await.text().await.unwrap();
    for word in ["签收", "进展报告", "上传佐证材料", "申请延期", "同意延期", "申请办结", "核验通过", "评价", "对接纪要.pdf", "已办结"]
    {
        assert!(page.contains(word), "{word} in the history");
    }

    // The ledger and its workbook.
    let ledger = app.get(Some(&reporter), "/supervision?state=evaluated").await.text().await.unwrap();
    assert!(ledger.contains(&t.code) && ledger.contains("推进招商项目落地"), "{ledger}");
    let xlsx = app.get(Some(&office), "/supervision/ledger.xlsx").await;
    assert_eq!(xlsx.status(), 200);
    let rows = sheet(&xlsx.bytes().await.unwrap(), "督办台账");
    assert_eq!(text(&rows[0][0]), "编号");
    assert_eq!((text(&rows[1][0]), text(&rows[1][5]), text(&rows[1][6])), (t.code.clone(), "区发改局".to_string(), "区财政局".to_string()));
    assert_eq!(text(&rows[1][16]), "87.5", "the average evaluation, a number");
}

async fn bad_input_is_refused(app: TestApp) {
    scheme(&app).await;
    let (office, reporter, victim) = (app.session("office").await, app.session("reporter").await, app.session("victim").await);
    // A deadline in the past.
    let r = assign(&app, &office, &days(&app, -1), "u01", &[]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains(&format!("日期 {} 已过", days(&app, -1))));
    // A unit outside a leader's scope.
    let mut tx = app.store.begin("test").await.unwrap();
    let new = jixiao_store::NewUser {
        username: "fenguan".into(),
        display_name: "分管领导".into(),
        password: crate::common::PASSWORD.into(),
        unit_id: None,
        language: "zh-CN".into(),
    };
    let id = app.store.add_user(&mut tx, &new).await.unwrap();
    let scope = jixiao_core::org::Scope::Units(["u01".to_string()].into()).to_json();
    app.store.set_roles(&mut tx, id, &[jixiao_store::RoleGrant { role: "leader".into(), scope }]).await.unwrap();
    tx.audit("test.user", "user", "fenguan", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let fenguan = app.session("fenguan").await;
    let r = assign(&app, &fenguan, &days(&app, 10), "u02", &[]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("区财政局”不在您的分管范围内"));
    // The form without its CSRF token is refused before anything.
    let r = app.http.post(app.url("/supervision")).header("cookie", &office.cookie).form(&[("title", "x")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(app.store.supervision_tasks(None).await.unwrap().is_empty(), "nothing stored");

    // Another unit's task in the URL: 404 for pages, steps and the API, without its title.
    assert_eq!(assign(&app, &office, &days(&app, 10), "u01", &[]).await.status(), 303);
    let t = latest(&app).await;
    for r in [
        app.get(Some(&victim), &format!("/supervision/tasks/{}", t.id)).await,
        step(&app, &victim, t.id, &[("step", "sign")]).await,
        app.get(Some(&victim), &format!("/api/v1/supervision/tasks/{}", t.id)).await,
        app.get(Some(&victim), "/supervision/tasks/999999").await,
    ] {
        assert_eq!(r.status(), 404);
        assert!(!r.text().await.unwrap().contains("推进招商项目落地"));
    }
    let ledger = app.get(Some(&victim), "/supervision").await.text().await.unwrap();
    assert!(!ledger.contains(&t.code), "not in another unit's ledger");
    // A filter on a unit outside the scope, an unknown state: 400 naming it.
    let r = app.get(Some(&reporter), "/supervision?unit=u02").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("u02"));
    assert_eq!(app.get(Some(&reporter), "/supervision?state=lost").await.status(), 400);
    // A step the reporter may not take, and an extension into the past.
    assert_eq!(step(&app, &reporter, t.id, &[("step", "verify")]).await.status(), 403);
    assert_eq!(step(&app, &reporter, t.id, &[("step", "sign")]).await.status(), 303);
    let r = step(&app, &reporter, t.id, &[("step", "request_extension"), ("until", &days(&app, -3)), ("text", "x")]).await;
    assert_eq!(r.status(), 400);
    let r = step(&app, &reporter, t.id, &[("step", "claim"), ("text", "")]).await;
    assert_eq!(r.status(), 400);
    assert_eq!(latest(&app).await.state, "in_progress", "nothing changed");
}

async fn the_api_and_the_prefilled_form(app: TestApp) {
    scheme(&app).await;
    let (office, reporter, victim) = (app.session("office").await, app.session("reporter").await, app.session("victim").await);
    let api_post = |who: &Session, path: String, body: Value| {
        app.http.post(app.url(&path)).header("cookie", &who.cookie).header("x-csrf-token", &who.csrf).json(&body).send()
    };
    let body = json!({"title": "接口交办", "requirement": "按期完成", "deadline": days(&app, 5), "priority": "high",
        "units": [{"unit": "u01", "leader_name": "孙志刚"}, {"unit": "u02"}]});
    let r = api_post(&office, "/api/v1/supervision/tasks".into(), body).await.unwrap();
    assert_eq!(r.status(), 200);
    let created: Value = r.json().await.unwrap();
    assert_eq!(
        (created["state"].as_str(), created["units"][0]["lead"].as_bool(), created["light"].as_str()),
        (Some("assigned"), Some(true), Some("green"))
    );
    assert_eq!(created["history"][0]["step"], "assign");
    let id = created["id"].as_i64().unwrap();
    let list: Value = app.get(Some(&victim), "/api/v1/supervision/tasks").await.json().await.unwrap();
    assert_eq!(list["total"], 1, "a co-unit sees the shared task");
    let r = api_post(&reporter, format!("/api/v1/supervision/tasks/{id}"), json!({"step": "sign", "version": 7})).await.unwrap();
    assert_eq!(r.status(), 409);
    let r = api_post(&reporter, format!("/api/v1/supervision/tasks/{id}"), json!({"step": "sign", "version": 1})).await.unwrap();
    assert_eq!(r.status(), 200);
    let signed: Value = r.json().await.unwrap();
    assert!(signed["units"][0]["signed_at"].is_string());
    let r = api_post(
        &office,
        "/api/v1/supervision/tasks".into(),
        json!({"title": "x", "requirement": "y", "deadline": "2000-01-01", "units": [{"unit": "u01"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!((e["error"]["code"].as_str(), e["error"]["details"]["field"].as_str()), (Some("invalid"), Some("deadline")));

    // The form opened from a red light is prefilled; a bad source is refused.
    let month = format!("{}-03", chrono::Datelike::year(&app.app.clock.today()));
    let page = app.get(Some(&office), &format!("/supervision/new?source_kind=red_light&source_ref=u01/{month}/A1")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("区发改局：到位资金（{month}）红灯整改")), "{html}");
    assert!(html.contains("<option value=\"u01\" selected>"));
    assert_eq!(app.get(Some(&office), "/supervision/new?source_kind=red_light&source_ref=u01").await.status(), 400);
    // The openapi document lists the routes.
    let doc: Value = app.get(None, "/api/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"]["/api/v1/supervision/tasks/{id}"]["post"].is_object());
}
