//! Evidence files (佐证材料) of a unit's monthly entries — attached by someone who may
//! report the entry — and the download of any evidence file (of an entry, or of a
//! service request's department, of a registered record or a bonus application, or
//! of a supervision task) for those who may see what it belongs to. What a
//! file may be is `files`' rule.

use jixiao_core::org::{Action, Target};
use jixiao_core::period::Month;
use jixiao_core::workflow::{self, Step};
use jixiao_store::Attachment;
use serde_json::json;

use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::files::{MAX_BYTES, kind_of};
use crate::i18n::Tr;
use crate::{App, collection, records, service};

/// The owner id of an entry's evidence: `year/unit/indicator/month`.
pub fn entry_owner(unit: &str, indicator: &str, month: Month) -> String {
    format!("{}/{unit}/{indicator}/{month}", month.year)
}

/// Attaches an evidence file to `unit`'s entry of `indicator` in `month`, by someone
/// who may report it; the file (its name and content) and its audit entry in one
/// transaction.
pub async fn attach_to_entry(
    app: &App,
    actor: &Actor,
    tr: &Tr,
    (unit, month, indicator): (&str, Month, &str),
    name: &str,
    bytes: &[u8],
) -> Result<Attachment> {
    if workflow::acting_role(&actor.grants, Step::Save, unit, indicator).is_none() {
        return Err(AppError::Forbidden);
    }
    let data = collection::load(app, unit, month).await?;
    if !data.scheme.node_index(indicator).is_some_and(|n| data.due.contains(&n)) {
        return Err(AppError::invalid(tr.f("report.not_due", &[&indicator, &month])));
    }
    if bytes.is_empty() {
        return Err(AppError::invalid(tr.t("service.error.no_file")));
    }
    if bytes.len() > MAX_BYTES {
        return Err(AppError::TooLarge(tr.f("service.error.evidence_size", &[&(MAX_BYTES / 1024 / 1024)])));
    }
    let content_type = kind_of(name, bytes).map_err(AppError::invalid)?;
    let owner = entry_owner(unit, indicator, month);
    let mut tx = app.store.begin(&actor.name).await?;
    let stored = app.store.add_attachment(&mut tx, "entry", &owner, name, content_type, bytes).await?;
    tx.audit(
        "evidence.add",
        "entry",
        &owner,
        None,
        Some(json!({"attachment": stored.id, "filename": name, "size": stored.size, "sha256": stored.sha256})),
    )
    .await?;
    tx.commit().await?;
    Ok(stored)
}

/// An evidence file, for those whose scope covers its entry (a report's) or who may
/// see its request (a service request's); not found for anyone else.
pub async fn download(app: &App, actor: &Actor, id: i64) -> Result<(Attachment, Vec<u8>)> {
    let (meta, content) = app.store.attachment(id).await?;
    match meta.owner_type.as_str() {
        "entry" => {
            // owner: year/unit/indicator/month
            let parts: Vec<&str> = meta.owner_id.split('/').collect();
            let (Some(unit), Some(indicator)) = (parts.get(1), parts.get(2)) else { return Err(AppError::NotFound) };
            actor.require(Action::ViewUnit, Target::Indicator { unit, indicator })?;
        }
        service::requests::EVIDENCE_OWNER => service::requests::check_case_visible(app, actor, &meta.owner_id).await?,
        records::RECORD_EVIDENCE | records::APPLICATION_EVIDENCE => {
            records::check_evidence_visible(app, actor, &meta.owner_type, &meta.owner_id).await?;
        }
        crate::supervision::tasks::EVIDENCE_OWNER => crate::supervision::tasks::check_code_visible(app, actor, &meta.owner_id).await?,
        // A citizen's photo has its own route; nothing else is served here.
        _ => return Err(AppError::NotFound),
    }
    Ok((meta, content))
}
