//! Accounts (账号): signing in and out, sessions, the account's own password and
//! language; the administrator's users, roles and scopes; API tokens; Open311 keys.
//! The pages, the API and the command line all come here, so a user added on the
//! command line is the same act, with the same audit entry, as one added on the page.
//!
//! Secrets (session ids, API tokens, Open311 keys) are 32 or 16 random bytes; the
//! database keeps only their SHA-256 (`secret_hash`), so a copy of it opens nothing.
//! Passwords are argon2 hashes (`store::users`). A session ends after the policy's
//! idle and absolute times; signing in makes a new session (rotation).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use chrono::{DateTime, Utc};
use jixiao_core::org::{Action, Grant, Role, RolesProblem, Scope, Target, check_password, check_roles};
use jixiao_store::{ApiToken, NewUser, RoleGrant, Session, User, WriteTx, timestamp};
use serde_json::json;
use sha2::Digest;

use crate::App;
use crate::actor::{Actor, grants_of};
use crate::error::{AppError, Result};
use crate::i18n::{Lang, Tr};
use crate::settings::Policy;

/// Problems of a form, by field name.
pub type FieldErrors = BTreeMap<String, String>;

/// Activity is written back to a session or token at most this often (seconds).
const TOUCH_EVERY_SECONDS: i64 = 60;

/// 32 random bytes, URL-safe base64: session ids, CSRF tokens, API tokens.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    // The operating system's generator failing is not something to carry on from.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a secret.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

fn seconds_since(at: &str, now: DateTime<Utc>) -> i64 {
    DateTime::parse_from_rfc3339(at).map_or(i64::MAX, |t| (now - t.with_timezone(&Utc)).num_seconds())
}

// ---------------------------------------------------------------------------
// Signing in and out

/// Why a login was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A username or password was not given.
    Missing,
    /// Too many failures in a row: locked until then.
    Locked {
        until: DateTime<Utc>,
    },
    Disabled,
    /// Unknown user or wrong password (the two are not told apart).
    Wrong,
}

/// What a login attempt came to.
pub enum Login {
    /// A new session, with the cookie secret and the account.
    Started {
        secret: String,
        user: Box<User>,
    },
    Refused(Refusal),
}

/// The end of a lockout still in force at `now`.
fn locked_until(locked_until: Option<&str>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let until = DateTime::parse_from_rfc3339(locked_until?).ok()?.with_timezone(&Utc);
    (until > now).then_some(until)
}

/// Signs `username` in with `password`, from `source` (the client's address, for the
/// audit log); `replacing` is the cookie secret of a session this browser still has,
/// which ends. Every attempt is audited.
///
/// The attempt is claimed in the database before the (slow) password check
/// (`Store::claim_login_attempt`): the count moves and the lock is decided in one
/// statement, so parallel guesses cannot all be checked before the account locks.
pub async fn login(app: &App, username: &str, password: &str, source: &str, replacing: Option<&str>) -> Result<Login> {
    let username = username.trim();
    if username.is_empty() || password.is_empty() {
        return Ok(Login::Refused(Refusal::Missing));
    }
    let policy = app.policy().await;
    let now = app.clock.now();
    let Some(user) = app.store.user_by_username(username).await? else {
        // The same work as a wrong password, so usernames are not revealed.
        app.store.verify_password(username, password).await?;
        // The typed name is cut (it is often a password typed in the wrong field),
        // and the write bounded like every security event.
        let name = crate::audit::cut_name(username);
        crate::audit::security_event(
            app,
            crate::audit::SecurityEvent {
                action: "auth.login_failed",
                actor: "anonymous",
                ip: source,
                object: &name,
                result: "refused",
                detail: json!({"reason": "unknown user"}),
            },
        )
        .await?;
        return Ok(Login::Refused(Refusal::Wrong));
    };
    let until = now + chrono::Duration::minutes(policy.lockout_minutes);
    let claim = app.store.claim_login_attempt(user.id, policy.lockout_threshold, &timestamp(now), &timestamp(until)).await?;
    let lock = claim.locked_until.as_deref().and_then(|t| locked_until(Some(t), now));
    if !claim.may_check {
        let mut tx = app.store.begin(username).await?;
        tx.audit(
            "auth.login_refused",
            "user",
            username,
            None,
            Some(json!({"reason": "locked", "attempt": claim.attempt, "locked_until": claim.locked_until, "ip": source})),
        )
        .await?;
        tx.commit().await?;
        return Ok(Login::Refused(Refusal::Locked { until: lock.unwrap_or(until) }));
    }
    let verified = app.store.verify_password(username, password).await?.is_some();
    if verified && !user.disabled {
        let mut tx = app.store.begin(username).await?;
        if let Some(old) = replacing {
            app.store.delete_session(&mut tx, &secret_hash(old)).await?;
        }
        let secret = start_session(app, &mut tx, &user, &policy).await?;
        app.store.clear_login_failures(&mut tx, user.id).await?;
        tx.audit("auth.login", "user", username, None, Some(json!({"ip": source}))).await?;
        tx.commit().await?;
        return Ok(Login::Started { secret, user: Box::new(user) });
    }
    let mut tx = app.store.begin(username).await?;
    if verified {
        tx.audit("auth.login_refused", "user", &user.username, None, Some(json!({"reason": "disabled", "ip": source}))).await?;
        tx.commit().await?;
        return Ok(Login::Refused(Refusal::Disabled));
    }
    tx.audit(
        "auth.login_failed",
        "user",
        &user.username,
        None,
        Some(json!({"failures": claim.attempt, "locked_until": lock.map(timestamp), "ip": source})),
    )
    .await?;
    tx.commit().await?;
    Ok(Login::Refused(match lock {
        Some(until) => Refusal::Locked { until },
        None => Refusal::Wrong,
    }))
}

/// Starts a session for `user` in `tx` and returns the cookie secret. The caller
/// audits and commits.
pub async fn start_session(app: &App, tx: &mut WriteTx, user: &User, policy: &Policy) -> Result<String> {
    let secret = random_secret();
    let expires = app.clock.now() + chrono::Duration::hours(policy.session_absolute_hours);
    app.store.create_session(tx, &secret_hash(&secret), user.id, &random_secret(), &timestamp(expires)).await?;
    Ok(secret)
}

/// Whether a session is still valid at `now` under `policy`.
pub fn session_is_live(session: &Session, policy: &Policy, now: DateTime<Utc>) -> bool {
    let absolute_ok = DateTime::parse_from_rfc3339(&session.expires_at).is_ok_and(|t| t.with_timezone(&Utc) > now);
    absolute_ok && seconds_since(&session.last_seen_at, now) < policy.session_idle_minutes * 60
}

/// Whether the account's password is older than the policy allows.
pub fn password_expired(user: &User, policy: &Policy, now: DateTime<Utc>) -> bool {
    seconds_since(&user.password_changed_at, now) >= policy.password_max_age_days * 86_400
}

/// The actor behind a session cookie, with its session; `None` when the session is
/// unknown, over, or its account disabled.
pub async fn session_actor(app: &App, cookie_secret: &str) -> Result<Option<(Actor, Session)>> {
    let id = secret_hash(cookie_secret);
    let Some(session) = app.store.session(&id).await? else { return Ok(None) };
    let now = app.clock.now();
    if !session_is_live(&session, &app.policy().await, now) {
        return Ok(None);
    }
    let mut user = app.store.user(session.user_id).await?;
    if user.disabled {
        return Ok(None);
    }
    // An expired password is changed first, like one an administrator reset.
    if password_expired(&user, &app.policy().await, now) {
        user.must_change_password = true;
    }
    if seconds_since(&session.last_seen_at, now) >= TOUCH_EVERY_SECONDS {
        app.store.touch_session(&id, &timestamp(now)).await?;
    }
    let grants = grants_of(app.store.roles(user.id).await?);
    Ok(Some((Actor::of_user(user, grants), session)))
}

/// The actor behind an API token; `None` when the token is unknown, revoked, or its
/// account disabled.
pub async fn token_actor(app: &App, token: &str) -> Result<Option<Actor>> {
    let Some(t) = app.store.token_by_hash(&secret_hash(token)).await? else { return Ok(None) };
    if t.revoked_at.is_some() {
        return Ok(None);
    }
    let Ok(role) = t.role.parse::<Role>() else { return Ok(None) };
    let scope = match &t.unit_id {
        Some(unit) => Scope::Units([unit.clone()].into()),
        None => role.default_scope(None),
    };
    let now = app.clock.now();
    if t.last_used_at.as_deref().is_none_or(|at| seconds_since(at, now) >= TOUCH_EVERY_SECONDS) {
        app.store.touch_token(t.id, &timestamp(now)).await?;
    }
    let user = match t.user_id {
        Some(id) => Some(app.store.user(id).await?).filter(|u| !u.disabled),
        None => None,
    };
    if t.user_id.is_some() && user.is_none() {
        return Ok(None);
    }
    Ok(Some(Actor {
        name: format!("api:{}", t.name),
        display_name: t.name.clone(),
        unit_id: t.unit_id.clone(),
        user,
        grants: vec![Grant { role, scope }],
        token_id: Some(t.id),
    }))
}

/// Ends one session of the actor (`session_id`: its stored id).
pub async fn logout(app: &App, actor: &Actor, session_id: Option<&str>) -> Result<()> {
    let mut tx = app.store.begin(&actor.name).await?;
    if let Some(id) = session_id {
        app.store.delete_session(&mut tx, id).await?;
    }
    tx.audit("auth.logout", "user", &actor.name, None, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the actor's account; how many.
pub async fn logout_everywhere(app: &App, actor: &Actor) -> Result<u64> {
    let user_id = actor.user_id().ok_or(AppError::Forbidden)?;
    let mut tx = app.store.begin(&actor.name).await?;
    let n = app.store.delete_user_sessions(&mut tx, user_id).await?;
    tx.audit("auth.logout_all", "user", &actor.name, None, Some(json!({"sessions": n}))).await?;
    tx.commit().await?;
    Ok(n)
}

/// Removes sessions past their absolute expiry (housekeeping, not audited: they no
/// longer open anything); how many.
pub async fn purge_expired_sessions(app: &App) -> Result<u64> {
    Ok(app.store.delete_expired_sessions(&app.clock.stamp()).await?)
}

// ---------------------------------------------------------------------------
// The account's own settings

/// Changes the actor's own password (the current one is needed). The other sessions
/// end; a new session replaces this one, whose cookie secret is returned.
pub async fn change_password(
    app: &App,
    actor: &Actor,
    tr: &Tr,
    current: &str,
    new: &str,
    repeat: &str,
) -> Result<std::result::Result<String, FieldErrors>> {
    let user = actor.user.clone().ok_or(AppError::Forbidden)?;
    let mut errors = FieldErrors::new();
    if app.store.verify_password(&user.username, current).await?.is_none() {
        errors.insert("current".into(), tr.t("account.wrong_current").into());
    }
    if let Err(problem) = check_password(&user.username, new) {
        errors.insert("new".into(), tr.t(problem.key()).into());
    } else if new == current {
        errors.insert("new".into(), tr.t("account.same_password").into());
    } else if app.store.password_in_history(user.id, new).await? {
        errors.insert("new".into(), tr.f("identity.password_reused", &[&jixiao_core::org::PASSWORD_HISTORY]));
    }
    if new != repeat {
        errors.insert("repeat".into(), tr.t("account.repeat_differs").into());
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.set_password(&mut tx, user.id, new, false).await?;
    // Every session ends; a new one keeps the user signed in here.
    let ended = app.store.delete_user_sessions(&mut tx, user.id).await?;
    let secret = start_session(app, &mut tx, &user, &app.policy().await).await?;
    tx.audit("user.password_change", "user", &user.username, None, Some(json!({"other_sessions_ended": ended.saturating_sub(1)}))).await?;
    tx.commit().await?;
    Ok(Ok(secret))
}

/// Sets the actor's interface language (nothing for an actor without an account).
pub async fn set_language(app: &App, actor: &Actor, lang: Lang) -> Result<()> {
    let Some(user) = actor.user.as_ref().filter(|u| u.language != lang.tag()) else { return Ok(()) };
    let mut tx = app.store.begin(&user.username).await?;
    app.store.set_language(&mut tx, user.id, lang.tag()).await?;
    tx.audit("user.language", "user", &user.username, Some(json!(user.language)), Some(json!(lang.tag()))).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Users, roles and scopes (the administrator)

/// An account as a form or the command line gives it. `roles` are the roles with the
/// scope typed beside each: empty for the role's default (own unit for unit roles,
/// all units for the office, leaders and administrators, no indicators yet for an
/// assessor), `all`, or ids separated by commas (indicator ids for an assessor).
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    pub username: String,
    pub display_name: String,
    pub unit: String,
    pub language: String,
    /// The first password (a new account only).
    pub password: String,
    pub roles: Vec<(Role, String)>,
}

impl AccountInput {
    fn unit(&self) -> Option<&str> {
        Some(self.unit.trim()).filter(|u| !u.is_empty())
    }

    fn language(&self) -> String {
        Lang::from_tag(&self.language).unwrap_or_default().tag().to_string()
    }
}

/// A scope as typed in the form (`all`, ids, or empty for the role's default).
pub fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::All => "all".into(),
        Scope::Units(ids) | Scope::Indicators(ids) => ids.iter().cloned().collect::<Vec<_>>().join(","),
    }
}

/// The grants an input asks for, or the errors by field. Who may give which role
/// (三权分立): an administrative role only alone and only from the command line; a
/// business role by whoever manages accounts.
fn parse_grants(actor: &Actor, tr: &Tr, input: &AccountInput, known_units: &BTreeSet<String>, errors: &mut FieldErrors) -> Vec<RoleGrant> {
    let roles: Vec<Role> = input.roles.iter().map(|(r, _)| *r).collect();
    if let Err(RolesProblem::AdministrativeNotAlone(role)) = check_roles(&roles) {
        errors.insert("roles".into(), tr.f("identity.roles_exclusive", &[&tr.role(role.code())]));
    }
    if let Some(role) = roles.iter().find(|r| r.is_administrative())
        && !actor.is_command_line()
    {
        let message = tr.f("identity.role_command_line", &[&tr.role(role.code())]);
        errors.entry("roles".into()).and_modify(|m| *m = format!("{m} {message}")).or_insert(message);
    }
    let unit = input.unit();
    let mut grants = Vec::new();
    for (role, text) in &input.roles {
        let text = text.trim();
        let scope = if text.is_empty() {
            role.default_scope(unit)
        } else if text == "all" {
            Scope::All
        } else {
            let ids: BTreeSet<String> = text.split([',', '，', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
            if *role == Role::Assessor {
                Scope::Indicators(ids)
            } else {
                let unknown: Vec<&str> = ids.iter().filter(|id| !known_units.contains(*id)).map(String::as_str).collect();
                if !unknown.is_empty() {
                    errors.insert(format!("scope_{}", role.code()), tr.f("users.unknown_units", &[&unknown.join(", ")]));
                }
                Scope::Units(ids)
            }
        };
        if role.belongs_to_unit() && *role != Role::Assessor && unit.is_none() {
            errors.insert("unit".into(), tr.f("users.role_needs_unit", &[&tr.role(role.code())]));
        }
        grants.push(RoleGrant { role: role.code().to_string(), scope: scope.to_json() });
    }
    if grants.is_empty() {
        errors.insert("roles".into(), tr.t("users.no_role").into());
    }
    grants
}

/// The checks a new and an edited account share: a name, a known unit.
fn check_profile(tr: &Tr, input: &AccountInput, known: &BTreeSet<String>, errors: &mut FieldErrors) {
    if input.display_name.trim().is_empty() {
        errors.insert("display_name".into(), tr.t("form.required").into());
    }
    if let Some(u) = input.unit()
        && !known.contains(u)
    {
        errors.insert("unit".into(), tr.f("users.unknown_units", &[&u]));
    }
}

fn roles_json(grants: &[RoleGrant]) -> Vec<serde_json::Value> {
    grants.iter().map(|g| json!({"role": g.role, "scope": g.scope})).collect()
}

/// Creates an account with its roles. Its first password is known to whoever made it,
/// so the user must choose their own at the first login. The account's id, or the
/// problems by field (nothing created).
pub async fn create_user(app: &App, actor: &Actor, tr: &Tr, input: &AccountInput) -> Result<std::result::Result<i64, FieldErrors>> {
    actor.require(Action::ManageUsers, Target::Nothing)?;
    let mut errors = FieldErrors::new();
    let username = input.username.trim().to_string();
    let known: BTreeSet<String> = app.store.units().await?.into_iter().map(|u| u.id).collect();
    if username.is_empty() || username.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.insert("username".into(), tr.t("users.bad_username").into());
    } else if app.store.user_by_username(&username).await?.is_some() {
        errors.insert("username".into(), tr.t("users.taken").into());
    }
    check_profile(tr, input, &known, &mut errors);
    if let Err(p) = check_password(&username, &input.password) {
        errors.insert("password".into(), tr.t(p.key()).into());
    }
    let grants = parse_grants(actor, tr, input, &known, &mut errors);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let unit = input.unit().map(str::to_string);
    let mut tx = app.store.begin(&actor.name).await?;
    let new = NewUser {
        username: username.clone(),
        display_name: input.display_name.trim().to_string(),
        password: input.password.clone(),
        unit_id: unit.clone(),
        language: input.language(),
    };
    let id = app.store.add_user(&mut tx, &new).await?;
    app.store.set_roles(&mut tx, id, &grants).await?;
    app.store.require_password_change(&mut tx, id).await?;
    tx.audit(
        "user.add",
        "user",
        &username,
        None,
        Some(json!({"display_name": new.display_name, "unit": unit, "roles": roles_json(&grants)})),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Changes an account's name, unit, language, roles and scopes.
pub async fn update_user(app: &App, actor: &Actor, tr: &Tr, id: i64, input: &AccountInput) -> Result<std::result::Result<(), FieldErrors>> {
    actor.require(Action::ManageUsers, Target::Nothing)?;
    let user = app.store.user(id).await?;
    let mut errors = FieldErrors::new();
    let known: BTreeSet<String> = app.store.units().await?.into_iter().map(|u| u.id).collect();
    check_profile(tr, input, &known, &mut errors);
    let grants = parse_grants(actor, tr, input, &known, &mut errors);
    let held = grants_of(app.store.roles(id).await?);
    let asked = grants_of(grants.clone());
    // Nobody changes their own roles, and an administrative account is changed only
    // from the command line.
    if !actor.is_command_line() && (held.iter().any(|g| g.role.is_administrative()) || actor.user_id() == Some(id) && held != asked) {
        errors.insert("roles".into(), tr.t("identity.roles_not_yours").into());
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let before_roles: Vec<_> = app.store.roles(id).await?.into_iter().map(|g| json!({"role": g.role, "scope": g.scope})).collect();
    let (unit, language) = (input.unit(), input.language());
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.update_user(&mut tx, id, &input.display_name, unit, &language).await?;
    app.store.set_roles(&mut tx, id, &grants).await?;
    tx.audit(
        "user.update",
        "user",
        &user.username,
        Some(json!({"display_name": user.display_name, "unit": user.unit_id, "language": user.language, "roles": before_roles})),
        Some(json!({"display_name": input.display_name.trim(), "unit": unit, "language": language, "roles": roles_json(&grants)})),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Sets a new password the user must change at the next login; every session of the
/// user ends.
pub async fn reset_password(app: &App, actor: &Actor, tr: &Tr, id: i64, password: &str) -> Result<()> {
    actor.require(Action::ManageUsers, Target::Nothing)?;
    let user = app.store.user(id).await?;
    check_password(&user.username, password).map_err(|p| AppError::invalid(tr.t(p.key())))?;
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.set_password(&mut tx, id, password, true).await?;
    let ended = app.store.delete_user_sessions(&mut tx, id).await?;
    tx.audit("user.password_reset", "user", &user.username, None, Some(json!({"sessions_ended": ended}))).await?;
    tx.commit().await?;
    Ok(())
}

/// Disables an enabled account (ending its sessions) or enables a disabled one.
/// Accounts are never deleted. Whether it is disabled now.
pub async fn toggle_disabled(app: &App, actor: &Actor, tr: &Tr, id: i64) -> Result<bool> {
    actor.require(Action::ManageUsers, Target::Nothing)?;
    let user = app.store.user(id).await?;
    if actor.user_id() == Some(id) && !user.disabled {
        return Err(AppError::invalid(tr.t("users.not_yourself")));
    }
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.set_user_disabled(&mut tx, id, !user.disabled).await?;
    if !user.disabled {
        app.store.delete_user_sessions(&mut tx, id).await?;
    }
    let action = if user.disabled { "user.enable" } else { "user.disable" };
    tx.audit(action, "user", &user.username, Some(json!({"disabled": user.disabled})), Some(json!({"disabled": !user.disabled}))).await?;
    tx.commit().await?;
    Ok(!user.disabled)
}

// ---------------------------------------------------------------------------
// API tokens

/// Creates an API token acting in `role` (for `unit`, when given) on behalf of the
/// actor's account; its id and its secret, shown once — or the problems by field.
pub async fn create_token(
    app: &App,
    actor: &Actor,
    tr: &Tr,
    name: &str,
    role: &str,
    unit: &str,
) -> Result<std::result::Result<(i64, String), FieldErrors>> {
    actor.require(Action::ManageTokens, Target::Nothing)?;
    let mut errors = FieldErrors::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.insert("name".into(), tr.t("form.required").into());
    }
    let role = role.parse::<Role>();
    if role.is_err() {
        errors.insert("role".into(), tr.t("tokens.bad_role").into());
    }
    let unit = Some(unit.trim()).filter(|u| !u.is_empty());
    if let Some(u) = unit
        && app.store.unit(u).await.is_err()
    {
        errors.insert("unit".into(), tr.f("users.unknown_units", &[&u]));
    }
    if let Ok(r) = role
        && r.belongs_to_unit()
        && r != Role::Assessor
        && unit.is_none()
    {
        errors.insert("unit".into(), tr.f("users.role_needs_unit", &[&tr.role(r.code())]));
    }
    // A token acts at most as its maker: in a role the maker holds, over data the
    // maker's grant of that role covers (the command line may make any).
    if let Ok(r) = role
        && !actor.is_command_line()
    {
        let covers = actor.grants.iter().any(|g| {
            g.role == r
                && match unit {
                    Some(u) => jixiao_core::org::allows(std::slice::from_ref(g), Action::ViewUnit, Target::Unit(u)),
                    None => g.scope == Scope::All,
                }
        });
        if !covers {
            errors.insert("role".into(), tr.f("identity.token_above_own", &[&tr.role(r.code())]));
        }
    }
    let (Ok(role), true) = (role, errors.is_empty()) else { return Ok(Err(errors)) };
    let secret = format!("jx_{}", random_secret());
    let mut tx = app.store.begin(&actor.name).await?;
    let id = app.store.add_token(&mut tx, name, &secret_hash(&secret), actor.user_id(), role.code(), unit).await?;
    tx.audit("token.add", "token", &id.to_string(), None, Some(json!({"name": name, "role": role.code(), "unit": unit}))).await?;
    tx.commit().await?;
    Ok(Ok((id, secret)))
}

/// Revokes an API token for good.
pub async fn revoke_token(app: &App, actor: &Actor, id: i64) -> Result<ApiToken> {
    actor.require(Action::ManageTokens, Target::Nothing)?;
    let mut tx = app.store.begin(&actor.name).await?;
    let token = app.store.revoke_token(&mut tx, id).await?;
    tx.audit("token.revoke", "token", &id.to_string(), Some(json!({"name": token.name, "role": token.role})), None).await?;
    tx.commit().await?;
    Ok(token)
}

// ---------------------------------------------------------------------------
// Open311 keys

/// A new Open311 API key: `o311_` and 16 random bytes in hex.
pub fn new_open311_key() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system's random number generator");
    format!("o311_{}", hex::encode(b))
}

/// Creates an Open311 key named `name`; its id and the key, shown once.
pub async fn add_open311_key(app: &App, actor: &Actor, tr: &Tr, name: &str) -> Result<(i64, String)> {
    actor.require(Action::DispatchServiceRequests, Target::Nothing)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(tr.t("service.error.key_name")));
    }
    let key = new_open311_key();
    let mut tx = app.store.begin(&actor.name).await?;
    let id = app.store.add_open311_key(&mut tx, name, &secret_hash(&key)).await?;
    tx.audit("open311.key.add", "open311_key", &id.to_string(), None, Some(json!({"name": name}))).await?;
    tx.commit().await?;
    Ok((id, key))
}

/// Revokes an Open311 key for good.
pub async fn revoke_open311_key(app: &App, actor: &Actor, id: i64) -> Result<()> {
    actor.require(Action::DispatchServiceRequests, Target::Nothing)?;
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.revoke_open311_key(&mut tx, id).await?;
    tx.audit("open311.key.revoke", "open311_key", &id.to_string(), Some(json!({"revoked": false})), Some(json!({"revoked": true}))).await?;
    tx.commit().await?;
    Ok(())
}
