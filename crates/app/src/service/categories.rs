//! Service categories (诉求类别, the Open311 services) as the office edits them: name,
//! description, group, keywords, the department a category usually goes to, the time
//! limit in working days, the order, and its Open311 attributes; deactivated, never
//! deleted (a deactivated category is no longer offered to citizens or Open311
//! clients; its requests keep it).
//!
//! The attributes are edited as text, one per line:
//! `code | datatype | 必填 or 可选 | description | datatype description | key=name; key=name`
//! (the last two may be left out; the list is for the two list types). Every problem
//! of the form is named — an attribute's by its line — and nothing is saved while
//! there is one. Each save is one transaction with its audit entry (before and after).
//! Categories carry no version column: the form carries a fingerprint of what it was
//! made from, and a save over a category changed meanwhile is refused as a conflict.

use jixiao_core::org::{Action, Target};
use jixiao_store::{ServiceAttribute, ServiceCategory};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Digest;

use crate::App;
use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;

/// The Open311 datatypes an attribute may have.
pub const DATATYPES: [&str; 6] = ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"];

/// Problems of a form: (field, message).
pub type Problems = Vec<(String, String)>;

/// What the form shows and sends back.
#[derive(Deserialize, Default, Clone)]
pub struct CategoryForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub group_name: String,
    #[serde(default)]
    pub keywords: String,
    #[serde(default)]
    pub unit_id: String,
    #[serde(default)]
    pub sla_days: String,
    #[serde(default)]
    pub sort_order: String,
    #[serde(default)]
    pub attributes: String,
    /// The fingerprint of the category the form was made from (edits only).
    #[serde(default)]
    pub fingerprint: String,
}

/// An attribute as one line of the form.
pub fn attribute_line(a: &ServiceAttribute) -> String {
    let required = if a.required { "必填" } else { "可选" };
    let values = a.values.iter().map(|(k, n)| format!("{k}={n}")).collect::<Vec<_>>().join("; ");
    let mut cols =
        vec![a.code.clone(), a.datatype.clone(), required.to_string(), a.description.clone(), a.datatype_description.clone(), values];
    while cols.len() > 4 && cols.last().is_some_and(String::is_empty) {
        cols.pop();
    }
    cols.join(" | ")
}

/// The form of a stored category.
pub fn form_of(c: &ServiceCategory, attributes: &[ServiceAttribute]) -> CategoryForm {
    CategoryForm {
        code: c.code.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        group_name: c.group_name.clone(),
        keywords: c.keywords.clone(),
        unit_id: c.unit_id.clone().unwrap_or_default(),
        sla_days: c.sla_days.to_string(),
        sort_order: c.sort_order.to_string(),
        attributes: attributes.iter().map(attribute_line).collect::<Vec<_>>().join("\n"),
        fingerprint: fingerprint(c, attributes),
    }
}

/// What a category and its attributes are, for the audit entry and the fingerprint.
fn snapshot(c: &ServiceCategory, attributes: &[ServiceAttribute]) -> Value {
    json!({
        "code": c.code, "name": c.name, "description": c.description, "group": c.group_name, "keywords": c.keywords,
        "unit": c.unit_id, "sla_days": c.sla_days, "sort_order": c.sort_order, "disabled": c.disabled,
        "attributes": attributes.iter().map(attribute_line).collect::<Vec<_>>(),
    })
}

pub fn fingerprint(c: &ServiceCategory, attributes: &[ServiceAttribute]) -> String {
    hex::encode(sha2::Sha256::digest(snapshot(c, attributes).to_string().as_bytes()))
}

pub fn valid_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && code.len() <= 40
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Reads the attribute lines; the attributes, or a message per bad line.
fn parse_attributes(tr: &Tr, text: &str) -> std::result::Result<Vec<ServiceAttribute>, Vec<String>> {
    let mut out: Vec<ServiceAttribute> = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(['|', '｜']).map(str::trim).collect();
        let mut bad = |key: &str, arg: &str| problems.push(tr.f("service.error.attr_line", &[&n, &tr.f(key, &[&arg])]));
        if !(4..=6).contains(&cols.len()) {
            bad("service.error.attr_columns", "");
            continue;
        }
        let code = cols[0];
        let datatype = cols[1];
        let required = match cols[2] {
            "必填" | "required" | "是" => Some(true),
            "可选" | "optional" | "否" => Some(false),
            _ => None,
        };
        let ok_code = !code.is_empty() && code.len() <= 40 && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok_code {
            bad("service.error.attr_code", code);
        } else if out.iter().any(|a| a.code == code) {
            bad("service.error.attr_duplicate", code);
        }
        if !DATATYPES.contains(&datatype) {
            bad("service.error.attr_type", datatype);
        }
        if required.is_none() {
            bad("service.error.attr_required", cols[2]);
        }
        if cols[3].is_empty() || cols[3].chars().count() > 200 {
            bad("service.error.attr_description", "");
        }
        let datatype_description = cols.get(4).copied().unwrap_or("");
        let mut values = Vec::new();
        for pair in cols.get(5).copied().unwrap_or("").split([';', '；']).map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once(['=', '＝']) {
                Some((k, v))
                    if !k.trim().is_empty() && !v.trim().is_empty() && !values.iter().any(|(x, _): &(String, String)| x == k.trim()) =>
                {
                    values.push((k.trim().to_string(), v.trim().to_string()));
                }
                _ => bad("service.error.attr_value", pair),
            }
        }
        let is_list = datatype.ends_with("valuelist");
        if is_list && values.is_empty() {
            bad("service.error.attr_values_missing", "");
        } else if !is_list && !values.is_empty() {
            bad("service.error.attr_values_unwanted", datatype);
        }
        out.push(ServiceAttribute {
            code: code.to_string(),
            datatype: datatype.to_string(),
            required: required.unwrap_or(false),
            description: cols[3].to_string(),
            datatype_description: datatype_description.to_string(),
            sort_order: i64::try_from(out.len() + 1).unwrap_or(i64::MAX),
            values,
        });
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// Checks the whole form: the category and its attributes, or every problem by field.
async fn check(
    app: &App,
    tr: &Tr,
    form: &CategoryForm,
    code: &str,
    disabled: bool,
) -> Result<std::result::Result<(ServiceCategory, Vec<ServiceAttribute>), Problems>> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut bad = |field: &str, message: String| errors.push((field.to_string(), message));
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        bad("name", tr.t("service.error.cat_name").to_string());
    }
    if form.description.trim().chars().count() > 500
        || form.group_name.trim().chars().count() > 50
        || form.keywords.trim().chars().count() > 200
    {
        bad("description", tr.t("service.error.cat_text").to_string());
    }
    let sla_days = form.sla_days.trim().parse::<i64>().ok().filter(|d| (1..=365).contains(d));
    if sla_days.is_none() {
        bad("sla_days", tr.t("service.error.cat_sla").to_string());
    }
    let sort_order = if form.sort_order.trim().is_empty() {
        Some(0)
    } else {
        form.sort_order.trim().parse::<i64>().ok().filter(|o| o.abs() <= 1_000_000)
    };
    if sort_order.is_none() {
        bad("sort_order", tr.t("service.error.cat_sort").to_string());
    }
    let unit = form.unit_id.trim();
    let unit_id = if unit.is_empty() {
        None
    } else {
        match app.store.unit(unit).await {
            Ok(u) if !u.disabled => Some(u.id),
            _ => {
                bad("unit_id", tr.f("service.error.cat_unit", &[&unit]));
                None
            }
        }
    };
    let attributes = match parse_attributes(tr, &form.attributes) {
        Ok(a) => a,
        Err(lines) => {
            for l in lines {
                bad("attributes", l);
            }
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let category = ServiceCategory {
        code: code.to_string(),
        name: name.to_string(),
        description: form.description.trim().to_string(),
        group_name: form.group_name.trim().to_string(),
        keywords: form.keywords.trim().to_string(),
        unit_id,
        sla_days: sla_days.unwrap_or(1),
        sort_order: sort_order.unwrap_or(0),
        disabled,
    };
    Ok(Ok((category, attributes)))
}

/// A category and its attributes as stored.
pub async fn stored(app: &App, code: &str) -> Result<(ServiceCategory, Vec<ServiceAttribute>)> {
    let c = app.store.service_category(code).await?.ok_or(AppError::NotFound)?;
    let attributes = app.store.service_attributes(code).await?;
    Ok((c, attributes))
}

/// Refuses a form made from another state of the category.
fn unchanged_since(tr: &Tr, seen: &str, c: &ServiceCategory, attributes: &[ServiceAttribute]) -> Result<()> {
    if seen != fingerprint(c, attributes) {
        return Err(AppError::Conflict(tr.f("service.error.cat_changed", &[&c.code])));
    }
    Ok(())
}

/// Adds a category; its code, or every problem by field.
pub async fn create(app: &App, actor: &Actor, tr: &Tr, form: &CategoryForm) -> Result<std::result::Result<String, Problems>> {
    actor.require(Action::DispatchServiceRequests, Target::Nothing)?;
    let code = form.code.trim().to_string();
    let mut problems = Problems::new();
    if !valid_code(&code) {
        problems.push(("code".to_string(), tr.t("service.error.cat_code").to_string()));
    } else if app.store.service_category(&code).await?.is_some() {
        problems.push(("code".to_string(), tr.f("service.error.cat_code_taken", &[&code])));
    }
    let (category, attributes) = match check(app, tr, form, &code, false).await? {
        Ok(c) if problems.is_empty() => c,
        other => {
            problems.extend(other.err().unwrap_or_default());
            return Ok(Err(problems));
        }
    };
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.upsert_service_category(&mut tx, &category).await?;
    app.store.set_service_attributes(&mut tx, &category.code, &attributes).await?;
    tx.audit("service.category.add", "service_category", &category.code, None, Some(snapshot(&category, &attributes))).await?;
    tx.commit().await?;
    Ok(Ok(category.code))
}

/// Saves a category (its code stays), refused when it changed since the form was made.
pub async fn update(app: &App, actor: &Actor, tr: &Tr, code: &str, form: &CategoryForm) -> Result<std::result::Result<(), Problems>> {
    actor.require(Action::DispatchServiceRequests, Target::Nothing)?;
    let (before, before_attributes) = stored(app, code).await?;
    unchanged_since(tr, &form.fingerprint, &before, &before_attributes)?;
    let (category, attributes) = match check(app, tr, form, code, before.disabled).await? {
        Ok(c) => c,
        Err(problems) => return Ok(Err(problems)),
    };
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.upsert_service_category(&mut tx, &category).await?;
    app.store.set_service_attributes(&mut tx, code, &attributes).await?;
    let (b, a) = (snapshot(&before, &before_attributes), snapshot(&category, &attributes));
    tx.audit("service.category.update", "service_category", code, Some(b), Some(a)).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Deactivates an active category, reactivates a deactivated one; whether it is
/// deactivated now.
pub async fn toggle(app: &App, actor: &Actor, tr: &Tr, code: &str, seen: &str) -> Result<bool> {
    actor.require(Action::DispatchServiceRequests, Target::Nothing)?;
    let (before, attributes) = stored(app, code).await?;
    unchanged_since(tr, seen, &before, &attributes)?;
    let after = ServiceCategory { disabled: !before.disabled, ..before.clone() };
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.upsert_service_category(&mut tx, &after).await?;
    let action = if after.disabled { "service.category.disable" } else { "service.category.enable" };
    tx.audit(action, "service_category", code, Some(json!({"disabled": before.disabled})), Some(json!({"disabled": after.disabled})))
        .await?;
    tx.commit().await?;
    Ok(after.disabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::i18n::Lang;

    #[test]
    fn attribute_lines_round_trip_and_name_their_line() {
        let tr = Tr::new(Lang::Zh);
        let text = "depth | singlevaluelist | 必填 | 塌陷深度 |  | shallow=小于10厘米; deep=10厘米以上\nnote | string | 可选 | 补充说明";
        let parsed = parse_attributes(&tr, text).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!((parsed[0].required, parsed[0].values.len(), parsed[1].sort_order), (true, 2, 2));
        assert_eq!(parsed.iter().map(attribute_line).collect::<Vec<_>>().join("\n"), text);
        let errors =
            parse_attributes(&tr, "ok | string | 可选 | 说明\n\nbad code! | colour | maybe | x\nlist | singlevaluelist | 可选 | 无选项")
                .unwrap_err();
        assert!(errors.iter().any(|e| e.contains("第 3 行")) && errors.iter().any(|e| e.contains("第 4 行")), "{errors:?}");
        assert!(!errors.iter().any(|e| e.contains("第 1 行")), "{errors:?}");
        assert!(valid_code("road_2") && !valid_code("Road") && !valid_code("") && !valid_code("-x") && !valid_code(&"a".repeat(41)));
    }
}
