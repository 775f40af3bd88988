//! The organisation (组织机构): groups (考核类别) and units (被考核单位), created, renamed
//! and disabled by the administrator — never deleted, since schemes, entries and the
//! audit trail of past years keep pointing at them. Each change is one transaction
//! with its audit entry; a refused form changes nothing and names each problem.

use jixiao_core::org::{Action, Target};
use serde_json::json;

use crate::App;
use crate::accounts::FieldErrors;
use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;

/// A unit as a form gives it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UnitInput {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub sort_order: String,
}

/// Ids of units and groups: letters, digits, `_` and `-`, at most 32 characters.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= 32 && id.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// The longest name of a unit or group (characters).
const MAX_NAME: usize = 100;

fn check_name(tr: &Tr, name: &str, errors: &mut FieldErrors) {
    let name = name.trim();
    if name.is_empty() {
        errors.insert("name".into(), tr.t("form.required").into());
    } else if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        errors.insert("name".into(), tr.f("form.too_long", &[&MAX_NAME]));
    }
}

/// Checks a unit form; its sort order, or the errors by field.
async fn check_unit(app: &App, tr: &Tr, input: &UnitInput, new: bool) -> Result<std::result::Result<i64, FieldErrors>> {
    let mut errors = FieldErrors::new();
    let id = input.id.trim();
    if new {
        if !valid_id(id) {
            errors.insert("id".into(), tr.t("org.bad_id").into());
        } else if app.store.unit(id).await.is_ok() {
            errors.insert("id".into(), tr.t("org.id_taken").into());
        }
    }
    check_name(tr, &input.name, &mut errors);
    if !app.store.groups().await?.iter().any(|g| g.id == input.group && !g.disabled) {
        errors.insert("group".into(), tr.t("org.bad_group").into());
    }
    let order = input.sort_order.trim();
    let sort_order = if order.is_empty() { Ok(0) } else { order.parse::<i64>() };
    if sort_order.is_err() {
        errors.insert("sort_order".into(), tr.t("form.integer").into());
    }
    Ok(if errors.is_empty() { Ok(sort_order.unwrap_or(0)) } else { Err(errors) })
}

/// Creates a unit.
pub async fn create_unit(app: &App, actor: &Actor, tr: &Tr, input: &UnitInput) -> Result<std::result::Result<(), FieldErrors>> {
    actor.require(Action::ManageOrganisation, Target::Nothing)?;
    let sort_order = match check_unit(app, tr, input, true).await? {
        Ok(order) => order,
        Err(errors) => return Ok(Err(errors)),
    };
    let (id, name) = (input.id.trim(), input.name.trim());
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.upsert_unit(&mut tx, id, name, &input.group, sort_order).await?;
    tx.audit("unit.add", "unit", id, None, Some(json!({"name": name, "group": input.group, "sort_order": sort_order}))).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Renames a unit, or moves it to another group or place (its id never changes).
pub async fn update_unit(app: &App, actor: &Actor, tr: &Tr, id: &str, input: &UnitInput) -> Result<std::result::Result<(), FieldErrors>> {
    actor.require(Action::ManageOrganisation, Target::Nothing)?;
    let unit = app.store.unit(id).await?;
    let sort_order = match check_unit(app, tr, input, false).await? {
        Ok(order) => order,
        Err(errors) => return Ok(Err(errors)),
    };
    let name = input.name.trim();
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.upsert_unit(&mut tx, id, name, &input.group, sort_order).await?;
    tx.audit(
        "unit.update",
        "unit",
        id,
        Some(json!({"name": unit.name, "group": unit.group_id, "sort_order": unit.sort_order})),
        Some(json!({"name": name, "group": input.group, "sort_order": sort_order})),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Disables a unit, or enables it again.
pub async fn toggle_unit(app: &App, actor: &Actor, id: &str) -> Result<()> {
    actor.require(Action::ManageOrganisation, Target::Nothing)?;
    let unit = app.store.unit(id).await?;
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.set_unit_disabled(&mut tx, id, !unit.disabled).await?;
    let action = if unit.disabled { "unit.enable" } else { "unit.disable" };
    tx.audit(action, "unit", id, Some(json!({"disabled": unit.disabled})), Some(json!({"disabled": !unit.disabled}))).await?;
    tx.commit().await?;
    Ok(())
}

/// Creates a group, or renames the one with that id.
pub async fn save_group(app: &App, actor: &Actor, tr: &Tr, id: &str, name: &str) -> Result<std::result::Result<(), FieldErrors>> {
    actor.require(Action::ManageOrganisation, Target::Nothing)?;
    let (id, name) = (id.trim(), name.trim());
    let mut errors = FieldErrors::new();
    if !valid_id(id) {
        errors.insert("id".into(), tr.t("org.bad_id").into());
    }
    check_name(tr, name, &mut errors);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let before = app.store.groups().await?.into_iter().find(|g| g.id == id);
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.upsert_group(&mut tx, id, name).await?;
    let action = if before.is_some() { "group.update" } else { "group.add" };
    tx.audit(action, "group", id, before.map(|g| json!({"name": g.name})), Some(json!({"name": name}))).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Disables a group, or enables it again.
pub async fn toggle_group(app: &App, actor: &Actor, id: &str) -> Result<()> {
    actor.require(Action::ManageOrganisation, Target::Nothing)?;
    let group = app.store.groups().await?.into_iter().find(|g| g.id == id).ok_or(AppError::NotFound)?;
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.set_group_disabled(&mut tx, id, !group.disabled).await?;
    let action = if group.disabled { "group.enable" } else { "group.disable" };
    tx.audit(action, "group", id, Some(json!({"disabled": group.disabled})), Some(json!({"disabled": !group.disabled}))).await?;
    tx.commit().await?;
    Ok(())
}
