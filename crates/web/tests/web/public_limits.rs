//! The public side under attack (security #15, items 5 and 6): one phone number named
//! thirty times on the public form, the daily SMS cap on every other path (Open311,
//! another process, the sender), the CAPTCHA's single use, binding and expiry, and
//! Open311 reads (ids per call, rate per address, coarse locations without a key).

use jixiao_app::{Actor, Tr};
use jixiao_core::org::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, backend_tests, solved_captcha};
use crate::service::{file_request, seed_categories};

backend_tests!(
    one_phone_named_thirty_times_gets_three_sms,
    the_daily_sms_cap_holds_on_every_path,
    the_captcha_is_single_use_bound_and_expiring,
    open311_reads_are_capped_limited_and_coarse
);

const VICTIM: &str = "13912345678";

async fn open311_key(app: &TestApp) -> String {
    let office = Actor::system("test", Role::Office);
    jixiao_app::accounts::add_open311_key(&app.app, &office, &Tr::default(), "市民热线").await.unwrap().1
}

async fn statuses(app: &TestApp) -> Vec<(String, String)> {
    let (messages, _) = app.store.outbox(None, None, 1000, 0).await.unwrap();
    messages.into_iter().rev().map(|m| (m.recipient, m.status)).collect()
}

/// The attack of the issue: 30 submissions naming one number in under a second, all
/// sent. Now: three requests (and SMS) an hour per number; then the form refuses with
/// 429 naming the phone, and from the eleventh submission on the address.
async fn one_phone_named_thirty_times_gets_three_sms(app: TestApp) {
    seed_categories(&app.store).await;
    let started = std::time::Instant::now();
    let mut codes = Vec::new();
    let mut bodies = Vec::new();
    let mut form_refused = 0;
    for i in 0..30 {
        // The attacker solves each CAPTCHA (here: reads it from the database); the
        // form itself is refused once the address has drawn too many pictures.
        let page = app.get(None, "/service").await;
        if page.status() == 429 {
            form_refused += 1;
            continue;
        }
        let (token, answer) = crate::common::captcha_of(&app, &page.text().await.unwrap()).await;
        let description = format!("第{i}次：路面塌陷");
        let fields =
            [("service_code", "road"), ("description", &description), ("phone", VICTIM), ("captcha_token", &token), ("captcha", &answer)];
        let r = file_request(&app, &fields, None).await;
        codes.push(r.status().as_u16());
        bodies.push(r.text().await.unwrap());
    }
    eprintln!("30 submissions naming one phone: {:?}; {form_refused} forms refused", started.elapsed());
    assert_eq!(codes[..3], [200, 200, 200], "three requests an hour per number");
    assert!(codes[3..].iter().all(|&c| c == 429), "{codes:?}");
    assert!(codes.len() >= 11, "{codes:?}");
    assert!(bodies[3].contains("data-field=\"phone\"") && bodies[3].contains("每小时最多 3 件"), "{}", bodies[3]);
    // The eleventh submission from one address: the address's limit (10 an hour).
    assert!(bodies[10].contains("您所在的网络提交诉求过于频繁"), "{}", bodies[10]);
    let sms = statuses(&app).await;
    assert_eq!(sms.len(), 3, "at most three SMS: {sms:?}");
    assert!(sms.iter().all(|(to, status)| to == VICTIM && status == "pending"));
    let (_, requests) = app.store.service_requests(&jixiao_store::RequestFilter { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(requests, 3);
}

/// Open311 (a partner's key: no CAPTCHA, no form limits) names one number 30 times:
/// every request is taken, 10 SMS are queued and 20 kept as `over_limit`, never sent;
/// another process counts in the same database; the next day counts afresh.
async fn the_daily_sms_cap_holds_on_every_path(app: TestApp) {
    seed_categories(&app.store).await;
    let key = open311_key(&app).await;
    // One number however it is written.
    let spellings = [VICTIM, "+86 139-1234-5678", "0086 139 1234 5678"];
    for i in 0..30 {
        let description = format!("第{i}件");
        let form = [
            ("api_key", key.as_str()),
            ("service_code", "road"),
            ("address_string", "江汉路"),
            ("description", description.as_str()),
            ("phone", spellings[i % 3]),
        ];
        let r = app.http.post(app.url("/open311/v2/requests.json")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let sms = statuses(&app).await;
    assert_eq!(sms.len(), 30, "every message is kept");
    assert!(sms[..10].iter().all(|(_, s)| s == "pending"), "{sms:?}");
    assert!(sms[10..].iter().all(|(_, s)| s == "over_limit"), "{sms:?}");
    let (held, _) = app.store.outbox(None, Some("over_limit"), 100, 0).await.unwrap();
    assert_eq!(held[0].last_error.as_deref(), Some("over the daily limit of 10 SMS to this number"));
    let today = app.app.clock.today().to_string();
    assert_eq!(app.store.sms_count(VICTIM, &today).await.unwrap(), 30);

    // The sender sends (here: records) the ten and leaves the rest.
    let report = jixiao_app::service::sms::deliver_due(&app.app).await.unwrap();
    assert_eq!((report.recorded, report.sent), (10, 0));
    let again = jixiao_app::service::sms::deliver_due(&app.app).await.unwrap();
    assert_eq!(again, Default::default(), "held messages are never due");
    assert_eq!(app.store.outbox(None, Some("over_limit"), 100, 0).await.unwrap().1, 20);

    // Another process over the same database: its message counts as the 31st.
    let other = app.other_app(jixiao_app::AppConfig::default(), app.app.clock.clone()).await;
    let input = jixiao_app::service::intake::Intake {
        channel: "phone",
        service_code: "road".into(),
        description: "来电".into(),
        phone: VICTIM.into(),
        ..Default::default()
    };
    let (_, new) = jixiao_app::service::intake::check(&other, &input).await.unwrap().unwrap();
    jixiao_app::service::intake::take(&other, "office", new, None).await.unwrap();
    assert_eq!(statuses(&app).await.last().unwrap().1, "over_limit");

    // The office sees why on the outbox page.
    let office = app.session("office").await;
    let page = app.get(Some(&office), "/service/outbox?status=over_limit").await.text().await.unwrap();
    assert!(page.contains("超出每日上限") && page.contains("over the daily limit"), "{page}");

    // Tomorrow the number gets messages again.
    app.app.clock.advance(chrono::Duration::days(1));
    let form =
        [("api_key", key.as_str()), ("service_code", "road"), ("address_string", "江汉路"), ("description", "次日"), ("phone", VICTIM)];
    assert_eq!(app.http.post(app.url("/open311/v2/requests.json")).form(&form).send().await.unwrap().status(), 200);
    assert_eq!(statuses(&app).await.last().unwrap().1, "pending");
}

/// The CAPTCHA: drawn as an inline picture, never its answer in the page; a wrong
/// answer uses the challenge up; a challenge answers once, only its own form, and not
/// after ten minutes; case and spaces do not matter; an operator is not asked.
async fn the_captcha_is_single_use_bound_and_expiring(app: TestApp) {
    seed_categories(&app.store).await;
    let page = app.get(None, "/service").await.text().await.unwrap();
    let (token, answer) = crate::common::captcha_of(&app, &page).await;
    assert!(page.contains("<img src=\"data:image/png;base64,") && page.contains("id=\"captcha\""), "{page}");
    assert!(!page.contains(&format!(">{answer}<")) && !page.contains(&format!("\"{answer}\"")), "the answer is not on the page");
    let base = [("service_code", "road"), ("description", "路灯不亮"), ("phone", "13700000001")];
    let with = |token: &str, answer: &str| {
        let mut f: Vec<(String, String)> = base.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        f.push(("captcha_token".into(), token.into()));
        f.push(("captcha".into(), answer.into()));
        f
    };
    let post = |fields: Vec<(String, String)>| {
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let r = file_request(app, &pairs, None).await;
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let wrong = if answer == "AAAAA" { "BBBBB" } else { "AAAAA" };
    let (status, body) = post(with(&token, wrong)).await;
    assert_eq!(status, 400);
    assert!(body.contains("data-field=\"captcha\"") && body.contains("验证码不正确"), "{body}");
    assert!(body.contains("value=\"路灯不亮\"") || body.contains(">路灯不亮<"), "what was typed is kept");
    let (status, _) = post(with(&token, &answer)).await;
    assert_eq!(status, 400, "a challenge is used up by its first answer, right or wrong");
    let (status, _) = post(with("", "")).await;
    assert_eq!(status, 400, "no challenge, no request");

    // Bound to its form: a challenge stored for another purpose does not answer this one.
    let foreign = "foreign-token";
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(foreign.as_bytes()));
    let later = jixiao_store::timestamp(app.app.clock.now() + chrono::Duration::minutes(5));
    app.store.add_captcha(&hash, "login", "ABCDE", &later).await.unwrap();
    assert_eq!(post(with(foreign, "ABCDE")).await.0, 400);

    // Expired after ten minutes.
    let (token, answer) = solved_captcha(&app).await;
    app.app.clock.advance(chrono::Duration::minutes(11));
    assert_eq!(post(with(&token, &answer)).await.0, 400, "expired");
    let (_, total) = app.store.service_requests(&jixiao_store::RequestFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(total, 0, "nothing was taken");

    // Lower case, spaced out: accepted.
    let (token, answer) = solved_captcha(&app).await;
    let typed: String = answer.to_lowercase().chars().flat_map(|c| [c, ' ']).collect();
    assert_eq!(post(with(&token, &typed)).await.0, 200);

    // The office's operator taking a call is not asked.
    let office = app.session("office").await;
    let form = app.get(Some(&office), "/service").await.text().await.unwrap();
    assert!(!form.contains("captcha_token"), "no CAPTCHA for an operator");
    // The purge job removes expired challenges.
    app.app.clock.advance(chrono::Duration::minutes(11));
    assert!(jixiao_app::captcha::purge(&app.app).await.unwrap() >= 1);
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The attacks of the issue on Open311 reads: 1,000 ids in one call (refused; 50 is
/// the most), reading request after request (429 after 60 a minute per address), and
/// exact locations for anyone (coarse without a key).
async fn open311_reads_are_capped_limited_and_coarse(app: TestApp) {
    seed_categories(&app.store).await;
    let key = open311_key(&app).await;
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "road"),
        ("lat", "30.5928"),
        ("long", "114.3055"),
        ("address_string", "江汉新区人民路12号3栋201室"),
        ("description", "井盖缺失"),
    ];
    let posted = app.http.post(app.url("/open311/v2/requests.json")).form(&form).send().await.unwrap().text().await.unwrap();
    let case = json_of(&posted)[0]["service_request_id"].as_str().unwrap().to_string();
    let get = |path: String| {
        let app = &app;
        async move {
            let r = app.http.get(app.url(&path)).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let mut reads = 0;

    // Ids per call.
    // (1,000 ids are longer than any one-line text may be: the edge refuses them first.)
    for (n, needle) in [(1000, "too long"), (51, "at most 50")] {
        let ids: Vec<String> = (1..=n).map(|i| format!("QK-2027-{i:06}")).collect();
        for f in ["json", "xml"] {
            let (s, body) = get(format!("/open311/v2/requests.{f}?service_request_id={}", ids.join(","))).await;
            reads += usize::from(n == 51);
            assert_eq!(s, 400, "{n} ids: {body}");
            assert!(body.contains(needle), "{body}");
            if f == "json" {
                assert_eq!(json_of(&body)[0]["code"], json!(400));
            } else {
                assert!(body.contains("<errors><error><code>400</code>"), "{body}");
            }
        }
    }
    let fifty: Vec<String> = std::iter::once(case.clone()).chain((2..=50).map(|i| format!("QK-2027-{i:06}"))).collect();
    let (s, body) = get(format!("/open311/v2/requests.json?service_request_id={}", fifty.join(","))).await;
    reads += 1;
    assert_eq!(s, 200, "{body}");

    // Coarse for the public, exact with a key, 403 with a wrong key.
    let public = &json_of(&body)[0];
    assert_eq!((public["lat"].as_f64(), public["long"].as_f64()), (Some(30.59), Some(114.31)));
    assert_eq!(public["address"], json!("江汉新区人民路"));
    assert_eq!(public["description"], json!("井盖缺失"));
    let (_, body) = get(format!("/open311/v2/requests/{case}.json?api_key={}", crate::common::encode(&key))).await;
    let keyed = &json_of(&body)[0];
    assert_eq!((keyed["lat"].as_f64(), keyed["long"].as_f64()), (Some(30.5928), Some(114.3055)));
    assert_eq!(keyed["address"], json!("江汉新区人民路12号3栋201室"));
    let (s, body) = get(format!("/open311/v2/requests/{case}.xml?api_key=wrong")).await;
    assert!(s == 403 && body.contains("api_key is not valid"), "{s} {body}");
    let (_, xml) = get(format!("/open311/v2/requests/{case}.xml")).await;
    reads += 1;
    assert!(xml.contains("<address>江汉新区人民路</address>") && xml.contains("<lat>30.59</lat>"), "{xml}");

    // Reading by sequential ids: 60 reads a minute per address, then 429 in the format.
    let mut codes = Vec::new();
    for i in 0..(70 - reads) {
        let (s, _) = get(format!("/open311/v2/requests/QK-2027-{:06}.json", i + 2)).await;
        codes.push(s);
    }
    // The quota refills one read a second: a slow run may get a read or two more.
    let allowed = codes.iter().position(|&c| c == 429).expect("refused at last");
    assert!((60..=62).contains(&(allowed + reads)), "{reads} + {codes:?}");
    assert!(codes[..allowed].iter().all(|&c| c == 404) && codes[allowed..].iter().filter(|&&c| c != 429).count() <= 1, "{codes:?}");
    let (s, body) = get("/open311/v2/services.xml".into()).await;
    assert!(s == 429 && body.contains("<code>429</code>") && body.contains("at most 60 a minute"), "{body}");
    // A partner with a key is not limited.
    let (s, _) = get(format!("/open311/v2/requests/{case}.json?api_key={}", crate::common::encode(&key))).await;
    assert_eq!(s, 200);
}
