//! A bulletin as an .xlsx workbook (`/bulletins/{id}/export.xlsx`), for offices that
//! pass results on in Excel. Written from the same content as the page, so the
//! numbers are the stored ones, as numbers (not text):
//!
//! - `通报` — number, revision, title, period, scheme, issuer, published;
//! - one sheet per group, `排名-<group name>` — rank, unit id, unit, the top-level
//!   node scores, total, grade, in rank order;
//! - `指标得分` — one row per unit whose detail the actor may see, one column per node
//!   of the tree (`A1 经济发展`), in tree order; empty where the unit is not assessed;
//! - `加减分台账` — the records counted in the period (unit, indicator, kind, date,
//!   points, note);
//! - `计分方法` — the tree with points, formulas, frequency and window.
//!
//! Sheet names follow the actor's language.

use std::collections::BTreeSet;

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use super::sheet_name;
use crate::bulletins::Opened;
use crate::i18n::Tr;
use crate::text::period_label;

fn header(sheet: &mut Worksheet, names: &[String], format: &Format, widths: &[f64]) -> Result<(), XlsxError> {
    for (c, name) in names.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, name, format)?;
        sheet.set_column_width(c as u16, widths.get(c).copied().unwrap_or(10.0))?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The workbook of an opened bulletin, with detail for the units in `detail` only.
pub fn write(tr: &Tr, opened: &Opened, detail: &BTreeSet<String>) -> Result<Vec<u8>, XlsxError> {
    let (b, c) = (&opened.bulletin, &opened.content);
    let bold = Format::new()
        .set_bold()
        .set_background_color("#E5E7EB")
        .set_border_bottom(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let score = Format::new().set_num_format("0.00");
    let unit_name = |id: &str| c.units.iter().find(|u| u.id == id).map_or(id.to_string(), |u| u.name.clone());
    let mut book = Workbook::new();

    let sheet = book.add_worksheet().set_name(sheet_name(tr.t("bulletin.title")))?;
    let mut rows: Vec<(&str, String)> = vec![
        ("bulletin.number", b.number_text()),
        ("bulletin.title_field", b.title.clone()),
        ("bulletin.period", format!("{} ({})", period_label(tr, &b.period), b.period)),
        ("bulletin.state", tr.t(&format!("bulletin.state_{}", b.state.as_str())).to_string()),
        ("schemes.title", format!("{} (v{})", c.scheme_name, c.scheme_version)),
        ("bulletin.published_at", b.published_at.clone().unwrap_or_default()),
    ];
    rows.insert(1, ("bulletin.revision", b.revision.to_string()));
    if !b.note.is_empty() {
        rows.push(("bulletin.revision_reason", b.note.clone()));
    }
    for (r, (key, value)) in rows.iter().enumerate() {
        sheet.write_string_with_format(r as u32, 0, tr.t(key).trim_end_matches(['：', ':']), &bold)?;
        sheet.write_string(r as u32, 1, value)?;
    }
    sheet.write_string((rows.len() + 1) as u32, 0, &c.issuer)?;
    sheet.set_column_width(0, 16)?;
    sheet.set_column_width(1, 60)?;

    let top: Vec<_> = c.nodes.iter().filter(|n| n.depth == 0).collect();
    for g in &c.groups {
        let results: Vec<_> = c.results.iter().filter(|r| r.group == g.id).collect();
        if results.is_empty() {
            continue;
        }
        let name = format!("{}-{}", tr.t("bulletin.sheet_ranking"), g.name);
        let sheet = book.add_worksheet().set_name(sheet_name(&name))?;
        let mut names = vec![tr.t("bulletin.rank").to_string(), tr.t("bulletin.unit_id").to_string(), tr.t("bulletin.unit").to_string()];
        names.extend(top.iter().map(|n| format!("{} {}", n.id, n.name)));
        names.push(tr.t("bulletin.total").to_string());
        names.push(tr.t("bulletin.grade").to_string());
        let mut widths = vec![6.0, 10.0, 22.0];
        widths.extend(top.iter().map(|_| 12.0));
        widths.extend([10.0, 8.0]);
        header(sheet, &names, &bold, &widths)?;
        for (i, r) in results.iter().enumerate() {
            let row = (i + 1) as u32;
            sheet.write_number(row, 0, r.rank as f64)?;
            sheet.write_string(row, 1, &r.unit)?;
            sheet.write_string(row, 2, unit_name(&r.unit))?;
            for (k, n) in top.iter().enumerate() {
                if let Some(x) = r.scores.get(&n.id) {
                    sheet.write_number_with_format(row, 3 + k as u16, *x, &score)?;
                }
            }
            let col = 3 + top.len() as u16;
            sheet.write_number_with_format(row, col, r.total, &score)?;
            sheet.write_string(row, col + 1, r.grade.as_deref().unwrap_or(""))?;
        }
    }

    let sheet = book.add_worksheet().set_name(sheet_name(tr.t("bulletin.sheet_scores")))?;
    let mut names = vec![tr.t("bulletin.unit_id").to_string(), tr.t("bulletin.unit").to_string(), tr.t("bulletin.group").to_string()];
    names.extend(c.nodes.iter().map(|n| format!("{} {}", n.id, n.name)));
    let mut widths = vec![10.0, 22.0, 12.0];
    widths.extend(c.nodes.iter().map(|_| 12.0));
    header(sheet, &names, &bold, &widths)?;
    sheet.set_freeze_panes(1, 2)?;
    let group_name = |id: &str| c.groups.iter().find(|g| g.id == id).map_or(id.to_string(), |g| g.name.clone());
    for (i, r) in c.results.iter().filter(|r| detail.contains(&r.unit)).enumerate() {
        let row = (i + 1) as u32;
        sheet.write_string(row, 0, &r.unit)?;
        sheet.write_string(row, 1, unit_name(&r.unit))?;
        sheet.write_string(row, 2, group_name(&r.group))?;
        for (k, n) in c.nodes.iter().enumerate() {
            if let Some(x) = r.scores.get(&n.id) {
                sheet.write_number_with_format(row, 3 + k as u16, *x, &score)?;
            }
        }
    }

    let sheet = book.add_worksheet().set_name(sheet_name(tr.t("bulletin.sheet_ledger")))?;
    let names: Vec<String> =
        ["bulletin.unit_id", "bulletin.unit", "bulletin.indicator", "bulletin.kind", "bulletin.date", "bulletin.points", "bulletin.note"]
            .iter()
            .map(|k| tr.t(k).to_string())
            .collect();
    header(sheet, &names, &bold, &[10.0, 22.0, 24.0, 8.0, 12.0, 8.0, 50.0])?;
    let node_name = |id: &str| c.nodes.iter().find(|n| n.id == id).map_or(id.to_string(), |n| format!("{id} {}", n.name));
    for (i, l) in c.ledger.iter().filter(|l| detail.contains(&l.unit)).enumerate() {
        let row = (i + 1) as u32;
        sheet.write_string(row, 0, &l.unit)?;
        sheet.write_string(row, 1, unit_name(&l.unit))?;
        sheet.write_string(row, 2, node_name(&l.indicator))?;
        sheet.write_string(row, 3, tr.t(&format!("kind.{}", l.kind)))?;
        sheet.write_string(row, 4, &l.date)?;
        sheet.write_number(row, 5, l.points)?;
        sheet.write_string_with_format(row, 6, l.note.as_deref().unwrap_or(""), &wrap)?;
    }

    let sheet = book.add_worksheet().set_name(sheet_name(tr.t("bulletin.sheet_formulas")))?;
    let names: Vec<String> = ["bulletin.indicator", "bulletin.kind", "bulletin.points", "bulletin.formula", "bulletin.window"]
        .iter()
        .map(|k| tr.t(k).to_string())
        .collect();
    header(sheet, &names, &bold, &[34.0, 8.0, 8.0, 70.0, 14.0])?;
    for (i, n) in c.nodes.iter().enumerate() {
        let row = (i + 1) as u32;
        let indent = Format::new().set_indent(n.depth.min(15) as u8).set_align(FormatAlign::Top);
        sheet.write_string_with_format(row, 0, format!("{} {}", n.id, n.name), &indent)?;
        sheet.write_string(row, 1, tr.t(&format!("kind.{}", n.kind)))?;
        if let Some(p) = n.points {
            sheet.write_number(row, 2, p)?;
        }
        sheet.write_string_with_format(row, 3, n.formula.as_deref().unwrap_or(""), &wrap)?;
        let how = match (&n.frequency, &n.window) {
            (Some(f), Some(w)) => format!("{} · {}", tr.t(&format!("frequency.{f}")), tr.t(&format!("bulletin.window_{w}"))),
            _ => String::new(),
        };
        sheet.write_string(row, 4, how)?;
    }
    book.save_to_buffer()
}
