//! Per-unit targets (分单位目标值) of one parameter of one indicator, both ways: the
//! workbook the scheme editor offers (unit id, the value, the unit's name; one row per
//! assigned unit) and the filled one read back — unit ids in column A, values in
//! column B under a header row; `-` clears a unit's own value.

use calamine::Data;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::sheet::{Book, BookError, Limits};
use crate::i18n::Tr;

/// The workbook of `rows` (unit id, name, own values), `column` the index of the
/// parameter among the values.
pub fn write(tr: &Tr, param: &str, rows: &[(String, String, Vec<String>)], column: Option<usize>) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let bold = Format::new().set_bold();
    sheet.set_name(tr.t("draft.targets"))?;
    sheet.write_string_with_format(0, 0, tr.t("field.unit_id"), &bold)?;
    sheet.write_string_with_format(0, 1, param, &bold)?;
    sheet.write_string_with_format(0, 2, tr.t("field.unit_name"), &bold)?;
    for (i, (uid, uname, values)) in rows.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        sheet.write_string(r, 0, uid)?;
        if let Some(v) = column.and_then(|c| values.get(c)).and_then(|v| v.parse::<f64>().ok()) {
            sheet.write_number(r, 1, v)?;
        }
        sheet.write_string(r, 2, uname)?;
    }
    sheet.set_column_width(0, 12)?;
    sheet.set_column_width(1, 14)?;
    sheet.set_column_width(2, 28)?;
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// The (unit, value) pairs of a filled workbook's first sheet, or every problem.
pub fn read(tr: &Tr, bytes: &[u8]) -> Result<Vec<(String, Option<f64>)>, Vec<String>> {
    let mut book = match Book::open(bytes, Limits::TARGETS) {
        Ok(b) => b,
        Err(BookError::NotXlsx(_)) => return Err(vec![tr.t("draft.err_not_xlsx").to_string()]),
        Err(e) => return Err(vec![e.to_string()]),
    };
    let sheet = book.sheet_names().first().cloned().ok_or_else(|| vec![tr.t("draft.err_not_xlsx").to_string()])?;
    let range = book.sheet(&sheet).map_err(|e| vec![e.to_string()])?;
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for (r, cells) in range.rows().enumerate().skip(1) {
        let row = r + 1;
        let unit = match cells.first() {
            Some(Data::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            None | Some(Data::Empty) => continue,
            Some(other) => other.to_string(),
        };
        let at = format!("{sheet}!B{row}");
        match cells.get(1) {
            Some(Data::Float(x)) => out.push((unit, Some(*x))),
            Some(Data::Int(x)) => out.push((unit, Some(*x as f64))),
            Some(Data::String(s)) => match target_value(tr, &at, s) {
                Ok(v) => out.push((unit, v)),
                Err(e) => errors.push(e),
            },
            Some(Data::Empty) | None => {}
            Some(other) => errors.push(tr.f("draft.err_number", &[&at, other])),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// A target as typed or pasted: a number (thousands separators allowed), or `-` to
/// clear a unit's own value. `at` names where, for the message.
pub fn target_value(tr: &Tr, at: &str, s: &str) -> std::result::Result<Option<f64>, String> {
    let s = s.trim().replace([',', '，'], "");
    if s == "-" || s == "—" {
        return Ok(None);
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite()).map(Some).ok_or_else(|| tr.f("draft.err_number", &[&at, &s]))
}
