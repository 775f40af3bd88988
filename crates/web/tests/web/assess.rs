//! The assessor's page: one indicator for every unit. An indicator the scheme says
//! another unit enters (`entered_by`) is entered there and not by the assessed unit;
//! one it says another unit reviews (`reviewed_by`) is approved there and not by the
//! unit's head. All units' changes are checked first and written together.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{TestApp, backend_tests};

backend_tests!(assessor_enters_and_reviews_for_every_unit);

/// A1 (to the assessor's scope) reported by each department, reviewed by u02 (the
/// assessor's unit); B1 entered by u02 for every unit.
async fn seed(app: &TestApp) {
    let file: jixiao_core::scheme::SchemeFile = serde_json::from_value(json!({
        "year": 2027, "name": "测试方案",
        "groups": [{"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"},
                  {"id": "s01", "name": "城关街道", "group": "street"}],
        "tree": [
            {"id": "A", "name": "职能履行", "points": 10, "children": [
                {"id": "A1", "name": "到位资金", "points": 10, "fields": [{"key": "actual", "name": "累计到位资金", "min": 0, "max": 1000}],
                 "params": {"target": 100}, "formula": "min(actual / target, 1) * points", "assign": [{"group": "dept"}], "reviewed_by": "u02"}]},
            {"id": "B", "name": "共性指标", "points": 5, "children": [
                {"id": "B1", "name": "税收入库", "points": 5, "fields": [{"key": "tax", "name": "入库税收", "min": 0}],
                 "formula": "min(tax / 50, 1) * points", "assign": [{"group": "dept"}, {"group": "street"}], "entered_by": "u02"}]}]
    }))
    .unwrap();
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.import_scheme(&mut tx, &file, "").await.unwrap();
    tx.audit("scheme.import", "scheme", "2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
}

async fn state(app: &TestApp, unit: &str, indicator: &str) -> Option<String> {
    app.store.entry(2027, unit, indicator, "2027-03").await.unwrap().map(|e| e.state)
}

async fn assessor_enters_and_reviews_for_every_unit(app: TestApp) {
    seed(&app).await;
    let assessor = app.session("assessor").await;
    let reporter = app.session("reporter").await;
    let head = app.session("head").await;
    let page = app.get(Some(&assessor), "/assess?month=2027-03&indicator=B1").await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    for text in ["区发改局", "区财政局", "城关街道", "name=\"v.s01.tax\"", "A1 到位资金", "B1 税收入库"] {
        assert!(body.contains(text), "the page shows {text}");
    }
    // The reporter of u01 does not see B1 as theirs, nor its inputs on the unit form.
    let body = app.get(Some(&reporter), "/assess?month=2027-03").await.text().await.unwrap();
    assert!(!body.contains("B1 税收入库") && body.contains("A1 到位资金"));
    let form = app.get(Some(&reporter), "/units/u01/report/2027-03").await.text().await.unwrap();
    assert!(form.contains("税收入库") && !form.contains("name=\"v.B1.tax\""), "B1 is shown, not editable");
    assert_eq!(app.get(Some(&reporter), "/assess?month=2027-03&indicator=B1").await.status(), StatusCode::NOT_FOUND);

    // One bad value: nothing is saved, the problem is beside its unit, typed values stay.
    let bad =
        [("month", "2027-03"), ("indicator", "B1"), ("action", "submit"), ("v.u01.tax", "30"), ("v.u02.tax", "-5"), ("v.s01.tax", "60")];
    let r = app.post(Some(&assessor), "/assess", &bad).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(body.contains("value=\"-5\"") && body.contains("value=\"60\""));
    assert_eq!((state(&app, "u01", "B1").await, state(&app, "s01", "B1").await), (None, None), "all or nothing");
    let good =
        [("month", "2027-03"), ("indicator", "B1"), ("action", "submit"), ("v.u01.tax", "30"), ("v.u02.tax", "55"), ("v.s01.tax", "60")];
    let r = app.post(Some(&assessor), "/assess", &good).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    for unit in ["u01", "u02", "s01"] {
        assert_eq!(state(&app, unit, "B1").await.as_deref(), Some("submitted"), "{unit}");
    }
    // The assessed unit's head cannot approve what u02 entered; u02's assessor does.
    let r = app.post(Some(&head), "/units/u01/report/2027-03", &[("action", "approve")]).await;
    assert_ne!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(state(&app, "u01", "B1").await.as_deref(), Some("submitted"));

    // A1: u01 reports it itself; u02 (the reviewer) approves it, not u01's head.
    let r = app.post(Some(&reporter), "/units/u01/report/2027-03", &[("action", "submit"), ("v.A1.actual", "40"), ("ver.A1", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let r = app.post(Some(&head), "/units/u01/report/2027-03", &[("action", "approve")]).await;
    assert_ne!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(state(&app, "u01", "A1").await.as_deref(), Some("submitted"));
    for indicator in ["A1", "B1"] {
        let r = app.post(Some(&assessor), "/assess", &[("month", "2027-03"), ("indicator", indicator), ("action", "approve")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{indicator}: {:?}", r.text().await);
    }
    assert_eq!(state(&app, "u01", "A1").await.as_deref(), Some("approved"));
    for unit in ["u01", "u02", "s01"] {
        assert_eq!(state(&app, unit, "B1").await.as_deref(), Some("approved"), "{unit}");
    }
    // Forged: an indicator not the viewer's, a month without a scheme.
    let r =
        app.post(Some(&reporter), "/assess", &[("month", "2027-03"), ("indicator", "B1"), ("action", "submit"), ("v.u01.tax", "1")]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.post(Some(&assessor), "/assess", &[("month", "2031-03"), ("indicator", "B1"), ("action", "submit")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
