//! `TestApp`: the application on a random loopback port over a fresh database, with a
//! small organisation and one account per role.
//!
//! Organisation: groups `dept` (u01 区发改局, u02 区财政局) and `street` (s01 城关街道).
//! Accounts (password `Test-2027-pass`): admin, office, leader (all units), assessor
//! (unit u02, indicators A1), reporter, head, staff (unit u01), and `victim` (a
//! reporter of u02 that routes may disable). `backend_tests!(a, b)` makes a SQLite and
//! a PostgreSQL variant of each `async fn a(app: TestApp)`.

use std::net::SocketAddr;

use jixiao_app::testing::TestWorld;
use jixiao_store::testing::TestDb;
use jixiao_store::{Backend, Store};
use jixiao_web::WebConfig;
use reqwest::redirect::Policy;

pub use jixiao_app::testing::{OTHER_UNIT, OWN_UNIT, PASSWORD};
const ANON_CSRF: &str = "anonymous-test-token";

pub struct TestApp {
    pub addr: SocketAddr,
    /// The application the server runs (its store and clock).
    pub app: jixiao_app::App,
    pub store: Store,
    pub db: TestDb,
    /// A client that does not follow redirects, keeps no cookies and no idle connections.
    pub http: reqwest::Client,
}

/// A signed-in session made directly in the database (no password hashing per test).
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl TestApp {
    pub async fn start(backend: Backend, config: WebConfig) -> Option<TestApp> {
        TestApp::start_with(backend, config, jixiao_app::AppConfig::default(), jixiao_app::Clock::system()).await
    }

    /// The application with the use cases' configuration and a clock of the test's.
    pub async fn start_with(
        backend: Backend,
        config: WebConfig,
        app_config: jixiao_app::AppConfig,
        clock: jixiao_app::Clock,
    ) -> Option<TestApp> {
        let TestWorld { db, app } = TestWorld::start(backend, app_config, clock).await?;
        let store = app.store.clone();
        let addr = jixiao_web::spawn(app.clone(), config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        // No pooled connections: after refusing an oversized upload the server closes
        // the connection without reading the body, and a pooled connection reused
        // while it closes fails the next request (seen under load).
        let http = reqwest::Client::builder().redirect(Policy::none()).pool_max_idle_per_host(0).build().unwrap();
        Some(TestApp { addr, app, store, db, http })
    }

    /// Another application over the same database: another process, with its own
    /// configuration and clock.
    pub async fn other_app(&self, config: jixiao_app::AppConfig, clock: jixiao_app::Clock) -> jixiao_app::App {
        jixiao_app::App::new(self.db.store().await, config, clock).await.unwrap()
    }

    /// The application with another SMS gateway configuration (the same database).
    pub async fn with_sms(&self, sms: jixiao_app::service::sms::SmsConfig) -> jixiao_app::App {
        self.other_app(jixiao_app::AppConfig { sms, ..Default::default() }, self.app.clock.clone()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn user_id(&self, username: &str) -> i64 {
        self.store.user_by_username(username).await.unwrap().unwrap().id
    }

    /// A fresh session of `username`, written straight into the sessions table.
    pub async fn session(&self, username: &str) -> Session {
        let user = self.store.user_by_username(username).await.unwrap().unwrap();
        let secret = format!("test-{username}-{}", rand_suffix());
        let csrf = format!("csrf-{}", rand_suffix());
        let hash = hex_sha256(&secret);
        let expires = jixiao_store::timestamp(self.app.clock.now() + chrono::Duration::hours(1));
        let mut tx = self.store.begin("test").await.unwrap();
        self.store.create_session(&mut tx, &hash, user.id, &csrf, &expires).await.unwrap();
        tx.audit("test.session", "user", username, None, None).await.unwrap();
        tx.commit().await.unwrap();
        Session { cookie: format!("jx_session={secret}"), csrf }
    }

    pub async fn get(&self, session: Option<&Session>, path: &str) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(s) = session {
            req = req.header("cookie", &s.cookie);
        }
        req.send().await.unwrap()
    }

    /// POSTs a form with the session's CSRF token; without a session, with the
    /// anonymous double-submit token (`jx_csrf` cookie = `_csrf` field).
    pub async fn post(&self, session: Option<&Session>, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut pairs: Vec<(&str, &str)> = form.to_vec();
        let req = self.http.post(self.url(path));
        let req = match session {
            Some(s) => {
                pairs.push(("_csrf", &s.csrf));
                req.header("cookie", &s.cookie)
            }
            None => {
                pairs.push(("_csrf", ANON_CSRF));
                req.header("cookie", format!("jx_csrf={ANON_CSRF}"))
            }
        };
        req.form(&pairs).send().await.unwrap()
    }

    /// Logs in through the form, as a browser does; the session cookie on success.
    pub async fn login(&self, username: &str, password: &str) -> (reqwest::Response, Option<String>) {
        let page = self.http.get(self.url("/login")).send().await.unwrap();
        let anon = set_cookie(&page, "jx_csrf").expect("the login page sets the CSRF cookie");
        let body = page.text().await.unwrap();
        let token = hidden_csrf(&body).expect("the login form carries a CSRF token");
        let response = self
            .http
            .post(self.url("/login"))
            .header("cookie", format!("jx_csrf={anon}"))
            .form(&[("username", username), ("password", password), ("_csrf", &token)])
            .send()
            .await
            .unwrap();
        let session = set_cookie(&response, "jx_session");
        (response, session)
    }
}

/// The value a response sets for cookie `name`.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let first = v.split(';').next()?;
        let (k, value) = first.split_once('=')?;
        (k.trim() == name && !value.is_empty()).then(|| value.to_string())
    })
}

/// The `_csrf` hidden field of a page.
pub fn hidden_csrf(html: &str) -> Option<String> {
    let i = html.find("name=\"_csrf\" value=\"")?;
    let rest = &html[i + "name=\"_csrf\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

fn hex_sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// Loads the demo district (76 units; u01 and u02 keep their ids, renamed) with data
/// January through `through` 2027 from generator seed `seed`, and scores it.
pub async fn seed_demo(app: &TestApp, through: u8, seed: u64) -> (jixiao_core::scheme::SchemeFile, jixiao_core::data::DataFile) {
    let (scheme, data) = jixiao_core::generate::demo_district(2027, through, seed);
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.import_scheme(&mut tx, &scheme, "demo").await.unwrap();
    app.store.import_data(&mut tx, 2027, &data).await.unwrap();
    tx.audit("test.demo", "test", "demo", None, None).await.unwrap();
    tx.commit().await.unwrap();
    app.store.refresh_scores(2027).await.unwrap();
    (scheme, data)
}

/// A score as the pages write it (the engine's 2-decimal number, shortest form).
pub fn num(x: f64) -> String {
    if x.fract() == 0.0 { format!("{}", x as i64) } else { format!("{x}") }
}

/// Reads a sheet as rows of cells (strings and numbers).
pub fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range(name).unwrap_or_else(|e| panic!("sheet {name}: {e} (sheets: {:?})", book.sheet_names()));
    range.rows().map(|r| r.to_vec()).collect()
}

pub fn text(c: &calamine::Data) -> String {
    match c {
        calamine::Data::String(s) => s.clone(),
        calamine::Data::Float(f) => f.to_string(),
        calamine::Data::Int(i) => i.to_string(),
        calamine::Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

/// Runs one test body on a fresh app of `backend`.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    match TestApp::start(backend, WebConfig::default()).await {
        Some(app) => test(app).await,
        None => eprintln!("skipped: JIXIAO_TEST_POSTGRES=off"),
    }
}

macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::run(jixiao_store::Backend::Sqlite, super::$name).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::run(jixiao_store::Backend::Postgres, super::$name).await
                }
            )+
        }
    };
}
pub(crate) use backend_tests;

/// The CAPTCHA of a public form page: (token, answer), the answer read from the
/// database as only a test can (the page and the server never tell it).
pub async fn captcha_of(app: &TestApp, html: &str) -> (String, String) {
    let marker = "name=\"captcha_token\" value=\"";
    let i = html.find(marker).unwrap_or_else(|| panic!("no CAPTCHA on the page: {html}")) + marker.len();
    let token = html[i..i + html[i..].find('"').unwrap()].to_string();
    let answer: String = sqlx::query_scalar("SELECT answer FROM captcha_challenges WHERE token_hash = $1")
        .bind(hex_sha256(&token))
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    (token, answer)
}

/// A new CAPTCHA of the public request form, solved: (token, answer).
pub async fn solved_captcha(app: &TestApp) -> (String, String) {
    let page = app.get(None, "/service").await;
    assert_eq!(page.status(), 200);
    captcha_of(app, &page.text().await.unwrap()).await
}

/// A query-string value, percent-encoded.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// An oversized body refused: the server answers 413 and may close the connection
/// before the client has written the whole body, which the client then sees as a
/// broken pipe. Either is a refusal; the caller checks that nothing was stored.
pub fn assert_too_large(sent: reqwest::Result<reqwest::Response>) {
    match sent {
        Ok(r) => assert_eq!(r.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => assert!(e.is_request() || e.is_body(), "neither 413 nor a closed connection: {e}"),
    }
}
