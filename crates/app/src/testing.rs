//! The world tests start from (feature `testing`), for this crate's use-case tests and
//! the web's handler tests alike: a fresh database of either backend (`store::testing`),
//! a small organisation with one account per role, and the `App` over it on a clock of
//! the test's choosing.
//!
//! Organisation: groups `dept` (u01 区发改局, u02 区财政局) and `street` (s01 城关街道).
//! Accounts (password `PASSWORD`): admin, office, leader (all units), assessor (unit
//! u02, indicator A1), reporter, head, staff (unit u01), and `victim` (a reporter of
//! u02). `scheme_2027` is a one-indicator scheme of that organisation.

use jixiao_core::org::{Grant, Role, Scope};
use jixiao_store::testing::TestDb;
use jixiao_store::{Backend, NewUser, RoleGrant, Store};
use serde_json::json;

use crate::actor::{Actor, grants_of};
use crate::{App, AppConfig, Clock};

pub const PASSWORD: &str = "Test-2027-pass";
pub const OWN_UNIT: &str = "u01";
pub const OTHER_UNIT: &str = "u02";

/// The seeded accounts: (username, role, unit, scope).
pub fn role_users() -> Vec<(&'static str, Role, Option<&'static str>, Scope)> {
    let units = |ids: &[&str]| Scope::Units(ids.iter().map(|s| s.to_string()).collect());
    vec![
        ("admin", Role::Admin, None, Scope::All),
        ("security", Role::Security, None, Scope::All),
        ("auditor", Role::Auditor, None, Scope::All),
        ("office", Role::Office, None, Scope::All),
        ("leader", Role::Leader, None, Scope::All),
        ("assessor", Role::Assessor, Some(OTHER_UNIT), Scope::Indicators(["A1".to_string()].into())),
        ("reporter", Role::Reporter, Some(OWN_UNIT), units(&[OWN_UNIT])),
        ("head", Role::Head, Some(OWN_UNIT), units(&[OWN_UNIT])),
        ("staff", Role::Staff, Some(OWN_UNIT), units(&[OWN_UNIT])),
        ("victim", Role::Reporter, Some(OTHER_UNIT), units(&[OTHER_UNIT])),
    ]
}

/// A test's database and the application over it.
pub struct TestWorld {
    pub db: TestDb,
    pub app: App,
}

impl TestWorld {
    /// A fresh database with the organisation and the accounts, and the app on `clock`;
    /// `None` when PostgreSQL tests are switched off.
    pub async fn start(backend: Backend, config: AppConfig, clock: Clock) -> Option<TestWorld> {
        let db = TestDb::new(backend).await?;
        let store = db.store().await;
        seed(&store).await;
        let app = App::new(store, config, clock).await.expect("the app starts");
        Some(TestWorld { db, app })
    }

    /// Another application over the same database: another process, with its own
    /// configuration and clock.
    pub async fn other_app(&self, config: AppConfig, clock: Clock) -> App {
        App::new(self.db.store().await, config, clock).await.expect("the app starts")
    }

    /// The seeded account `username` as an actor, with its grants.
    pub async fn actor(&self, username: &str) -> Actor {
        let user = self.app.store.user_by_username(username).await.unwrap().expect("a seeded account");
        let grants: Vec<Grant> = grants_of(self.app.store.roles(user.id).await.unwrap());
        Actor::of_user(user, grants)
    }

    /// Loads `scheme` as the first version of its year.
    pub async fn load_scheme(&self, scheme: &jixiao_core::scheme::SchemeFile) {
        let mut tx = self.app.store.begin("test").await.unwrap();
        self.app.store.import_scheme(&mut tx, scheme, "test").await.unwrap();
        tx.audit("scheme.import", "scheme", &scheme.year.to_string(), None, None).await.unwrap();
        tx.commit().await.unwrap();
    }
}

async fn seed(store: &Store) {
    let mut tx = store.begin("test").await.unwrap();
    for (id, name) in [("dept", "区直部门"), ("street", "街道")] {
        store.upsert_group(&mut tx, id, name).await.unwrap();
    }
    for (i, (id, name, group)) in
        [("u01", "区发改局", "dept"), ("u02", "区财政局", "dept"), ("s01", "城关街道", "street")].into_iter().enumerate()
    {
        store.upsert_unit(&mut tx, id, name, group, i as i64).await.unwrap();
    }
    for (username, role, unit, scope) in role_users() {
        let new = NewUser {
            username: username.into(),
            display_name: format!("{username} 用户"),
            password: PASSWORD.into(),
            unit_id: unit.map(String::from),
            language: "zh-CN".into(),
        };
        let id = store.add_user(&mut tx, &new).await.unwrap();
        store.set_roles(&mut tx, id, &[RoleGrant { role: role.code().into(), scope: scope.to_json() }]).await.unwrap();
    }
    tx.audit("test.seed", "test", "seed", None, Some(json!({}))).await.unwrap();
    tx.commit().await.unwrap();
}

/// The test scheme of 2027: A1 (到位资金, 0–1000) for the department group.
pub fn scheme_2027() -> jixiao_core::scheme::SchemeFile {
    serde_json::from_value(json!({
        "year": 2027, "name": "测试方案",
        "groups": [{"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"},
                  {"id": "s01", "name": "城关街道", "group": "street"}],
        "grades": [{"name": "合格"}],
        "tree": [{"id": "A", "name": "职能履行", "points": 10, "children": [
            {"id": "A1", "name": "到位资金", "points": 10,
             "fields": [{"key": "actual", "name": "累计到位资金", "min": 0, "max": 1000}],
             "params": {"target": 100},
             "formula": "min(actual / target, 1) * points", "assign": [{"group": "dept"}]}]}]
    }))
    .expect("the test scheme")
}

/// Runs `test` on a fresh world of `backend`, or says it was skipped.
pub async fn run<F, Fut>(backend: Backend, clock: Clock, test: F)
where
    F: FnOnce(TestWorld) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    match TestWorld::start(backend, AppConfig::default(), clock).await {
        Some(world) => test(world).await,
        None => eprintln!("skipped: JIXIAO_TEST_POSTGRES=off"),
    }
}

/// `scheme_2027` with supervision: the bonus `W` / `W1` 督办落实 (filled by the system
/// from supervision tasks: `max(0, min(2, evaluation / 50 - overdue * 0.5))`, for the
/// department group) and the deduction `Y` / `Y1` 督办事项逾期 (records, 0.5 each),
/// named by the scheme's `supervision` rule.
pub fn scheme_2027_supervision() -> jixiao_core::scheme::SchemeFile {
    let mut file = scheme_2027();
    let extra: Vec<jixiao_core::scheme::NodeDef> = serde_json::from_value(json!([
        {"id": "W", "name": "督办落实", "kind": "bonus", "cap": 2, "children": [
            {"id": "W1", "name": "督办事项办理", "filled_by": "supervision",
             "fields": [{"key": "overdue", "name": "逾期数", "type": "integer", "agg": "sum"},
                        {"key": "evaluation", "name": "平均评价", "agg": "avg", "min": 0, "max": 100}],
             "formula": "max(0, min(2, evaluation / 50 - overdue * 0.5))", "assign": [{"group": "dept"}]}]},
        {"id": "Y", "name": "违规失职减分", "kind": "deduction", "cap": 10, "children": [
            {"id": "Y1", "name": "督办事项逾期", "source": "records", "points": 3, "formula": "record_points",
             "assign": [{"group": "dept"}]}]}
    ]))
    .expect("the supervision nodes");
    file.tree.extend(extra);
    file.supervision = Some(jixiao_core::scheme::SupervisionRule { deduction: "Y1".into(), overdue_points: 0.5 });
    file
}
