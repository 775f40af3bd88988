//! Evidence files (佐证材料): what an upload may be, recognised by its content, not by
//! what the browser says. PDF, images (PNG, JPEG, GIF) and Office documents (Word,
//! Excel, PowerPoint, old and new formats) up to `MAX_BYTES`; the file name's
//! extension must agree with the content, so a renamed executable is refused.

use jixiao_core::org::{Action, Target};
use jixiao_core::period::Month;
use jixiao_core::workflow::{self, Step};
use jixiao_store::Attachment;
use serde_json::json;

use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;
use crate::{App, collection, service};

/// The largest evidence file accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The kind of an evidence file: its content type for downloads.
pub fn kind_of(filename: &str, content: &[u8]) -> Result<&'static str, String> {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let starts = |magic: &[u8]| content.starts_with(magic);
    let (allowed, content_type): (&[&str], &str) = if starts(b"%PDF-") {
        (&["pdf"], "application/pdf")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        (&["png"], "image/png")
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        (&["jpg", "jpeg"], "image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        (&["gif"], "image/gif")
    } else if starts(b"PK\x03\x04") {
        // Office Open XML is a zip; the extension says which.
        match ext.as_str() {
            "docx" => (&["docx"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            "xlsx" => (&["xlsx"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "pptx" => (&["pptx"], "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            _ => return Err(format!("`{filename}`: a zip file is accepted only as .docx, .xlsx or .pptx")),
        }
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        match ext.as_str() {
            "doc" => (&["doc"], "application/msword"),
            "xls" => (&["xls"], "application/vnd.ms-excel"),
            "ppt" => (&["ppt"], "application/vnd.ms-powerpoint"),
            _ => return Err(format!("`{filename}`: an old Office file is accepted only as .doc, .xls or .ppt")),
        }
    } else {
        return Err(format!("`{filename}` is not a PDF, an image or an Office document"));
    };
    if !allowed.contains(&ext.as_str()) {
        return Err(format!("`{filename}`: the content is {content_type}, but the name ends in .{ext}"));
    }
    Ok(content_type)
}

/// A file name safe for a `Content-Disposition` header: no path, no quotes or
/// control characters; non-ASCII names go in the RFC 5987 form beside an ASCII one.
pub fn disposition(filename: &str) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let clean: String = base.chars().filter(|c| !c.is_control() && *c != '"' && *c != ';').collect();
    let ascii: String = clean.chars().map(|c| if c.is_ascii() { c } else { '_' }).collect();
    let encoded: String = clean
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

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
        // A citizen's photo has its own route; nothing else is served here.
        _ => return Err(AppError::NotFound),
    }
    Ok((meta, content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides() {
        assert_eq!(kind_of("报告.pdf", b"%PDF-1.7 ..."), Ok("application/pdf"));
        assert_eq!(kind_of("photo.JPG", &[0xFF, 0xD8, 0xFF, 0xE0]), Ok("image/jpeg"));
        assert!(kind_of("table.xlsx", b"PK\x03\x04rest").is_ok());
        assert!(kind_of("tool.exe", b"MZ\x90\x00").is_err());
        assert!(kind_of("tool.pdf", b"MZ\x90\x00").is_err(), "an executable renamed .pdf");
        assert!(kind_of("report.png", b"%PDF-1.4").unwrap_err().contains("ends in .png"));
        assert!(kind_of("archive.zip", b"PK\x03\x04").is_err());
        assert!(kind_of("page.html", b"<html><script>").is_err());
    }

    #[test]
    fn dispositions_are_safe() {
        let d = disposition("../../etc/pa\"ss;wd\r\n.pdf");
        assert!(!d.contains("..") && !d.contains('\r') && !d.contains("\"ss"), "{d}");
        assert_eq!(disposition("佐证.pdf"), "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E4%BD%90%E8%AF%81.pdf");
    }
}
