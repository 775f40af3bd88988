//! Every Excel workbook (.xlsx) jixiao reads or writes, so that Excel, WPS and
//! LibreOffice users can work as they do today:
//!
//! - `sheet` — the one reader of uploaded workbooks, bounded before it allocates;
//! - `form` — a unit's monthly form: the template to fill, and the filled one read back;
//! - `month` — a whole month of every unit (the office's import and its template);
//! - `scheme` — a scheme version, both ways;
//! - `bulletin` — a bulletin's rankings, scores, ledger and formulas;
//! - `targets` — per-unit targets of one parameter, both ways;
//! - `topics` — the topic reports of registered records (专题统计);
//! - `supervision` — the supervision ledger (督办台账);
//! - the analysis report's workbook is written by `analysis`.
//!
//! Reading is strict: the file comes from outside, so a missing sheet, a changed
//! header, merged cells, formulas, text in a number cell or an unknown id is an error
//! naming sheet, row and column, and a file with any error changes nothing.

pub mod bulletin;
pub mod form;
pub mod month;
pub mod scheme;
pub mod sheet;
pub mod supervision;
pub mod targets;
pub mod topics;

pub use sheet::CellError;

/// The content type of a workbook download.
pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A sheet name Excel accepts: without `[]:*?/\`, at most 31 characters.
pub fn sheet_name(text: &str) -> String {
    let clean: String = text.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).collect();
    clean.chars().take(31).collect()
}

/// Whether the bytes are a zip (an .xlsx), whatever the file is called.
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK")
}
