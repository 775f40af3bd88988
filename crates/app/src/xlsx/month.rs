//! A whole month of entries, all units, as one Excel workbook: the office's
//! alternative to a spec §3 JSON data file on the reporting page, the template it
//! downloads for a month, and the workbook `jixiao bench import` measures. One
//! implementation for all three.
//!
//! Layout:
//!
//! - one sheet named after the month, `2027-12`; a month with more rows than a sheet
//!   holds (1,048,575 below the header) continues on `2027-12 (2)`, `2027-12 (3)`…;
//! - row 1 is the header `单位编号 | 指标编号 | 填报项编号 | 数值`, optionally followed
//!   by `单位名称 | 指标名称 | 填报项名称` (the template writes them for reading; they
//!   are not imported);
//! - below it one row per value: the unit id, the indicator id and the field key, the
//!   value as a number (a boolean field as TRUE/FALSE or 1/0). An entry's rows may
//!   come in any order; an empty value cell means the field is not reported, and an
//!   entry with no value at all is not imported.
//!
//! Reading is strict: a sheet not named after the month, another month on a second
//! sheet, a changed header, merged cells, Excel formulas, a missing id, text in a value
//! cell, a value given twice — and, when a scheme is given, an unknown unit, indicator
//! or field, an indicator that counts records, a month outside the scheme's year, a
//! value of the wrong type or out of bounds — every one is listed as `2027-12!D5: …`
//! and nothing is imported.

use std::collections::HashMap;

use calamine::Data;
use jixiao_core::data::{DataFile, EntryRow};
use jixiao_core::period::Month;
use jixiao_core::scheme::{Scheme, Source};
use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};
use serde_json::{Map, Value};

use super::sheet::{Book, CellError, Limits, column_name};

pub const HEADER: [&str; 4] = ["单位编号", "指标编号", "填报项编号", "数值"];
/// The optional name columns after the header, for reading only.
pub const NAMES_HEADER: [&str; 3] = ["单位名称", "指标名称", "填报项名称"];

/// Data rows per worksheet: Excel's 1,048,576 rows less the header.
pub const SHEET_ROWS: usize = 1_048_575;

/// Errors listed at most; the count of the rest is given.
const MAX_ERRORS: usize = 200;

/// A value cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Empty,
    Number(f64),
    Bool(bool),
}

/// One row to write.
pub struct Row<'a> {
    pub unit: &'a str,
    pub indicator: &'a str,
    pub field: &'a str,
    pub value: Cell,
    /// Unit, indicator and field names for the reading columns; `None` leaves the
    /// columns out (all rows alike).
    pub names: Option<(&'a str, &'a str, &'a str)>,
}

/// Writes the month's workbook; returns its bytes and the number of sheets. With
/// names, the header is bold, frozen, and the columns are sized for Chinese names.
pub fn write<'a>(month: &str, rows: impl IntoIterator<Item = Row<'a>>) -> Result<(Vec<u8>, usize), XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_background_color("#E5E7EB").set_border_bottom(FormatBorder::Thin);
    let mut sheets = 0;
    let mut row = SHEET_ROWS as u32; // full: start a sheet
    let mut sheet = None;
    let mut rows = rows.into_iter().peekable();
    let named = rows.peek().is_some_and(|r| r.names.is_some());
    let start = |book: &mut Workbook, sheets: &mut usize| -> Result<usize, XlsxError> {
        *sheets += 1;
        let name = if *sheets == 1 { month.to_string() } else { format!("{month} ({sheets})") };
        let s = book.add_worksheet().set_name(name)?;
        let header = HEADER.iter().chain(if named { &NAMES_HEADER[..] } else { &[] });
        for (c, h) in header.enumerate() {
            if named {
                s.write_string_with_format(0, c as u16, *h, &bold)?;
            } else {
                s.write_string(0, c as u16, *h)?;
            }
        }
        if named {
            for (c, w) in [12.0, 12.0, 12.0, 14.0, 28.0, 36.0, 30.0].into_iter().enumerate() {
                s.set_column_width(c as u16, w)?;
            }
            s.set_freeze_panes(1, 0)?;
        }
        Ok(book.worksheets_mut().len() - 1)
    };
    for r in rows {
        if row as usize >= SHEET_ROWS {
            sheet = Some(start(&mut book, &mut sheets)?);
            row = 0;
        }
        let Some(index) = sheet else { continue };
        let s = book.worksheet_from_index(index)?;
        row += 1;
        s.write_string(row, 0, r.unit)?;
        s.write_string(row, 1, r.indicator)?;
        s.write_string(row, 2, r.field)?;
        match r.value {
            Cell::Empty => {}
            Cell::Number(x) => {
                s.write_number(row, 3, x)?;
            }
            Cell::Bool(b) => {
                s.write_boolean(row, 3, b)?;
            }
        }
        if let Some((u, i, f)) = r.names {
            s.write_string(row, 4, u)?;
            s.write_string(row, 5, i)?;
            s.write_string(row, 6, f)?;
        }
    }
    if sheets == 0 {
        start(&mut book, &mut sheets)?;
    }
    Ok((book.save_to_buffer()?, sheets))
}

/// The month a workbook is for, and its entries.
#[derive(Debug)]
pub struct MonthBook {
    pub month: Month,
    pub file: DataFile,
}

struct Errors {
    list: Vec<CellError>,
    count: usize,
}

impl Errors {
    fn at(&mut self, sheet: &str, row: u32, col: Option<u32>, message: impl Into<String>) {
        self.count += 1;
        if self.list.len() < MAX_ERRORS {
            self.list.push(CellError {
                sheet: sheet.to_string(),
                row,
                column: col.map(column_name).unwrap_or_default(),
                message: message.into(),
            });
        }
    }
}

fn id(d: Option<&Data>) -> Option<String> {
    match d {
        Some(Data::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Data::Int(i)) => Some(i.to_string()),
        Some(Data::Float(x)) if x.fract() == 0.0 && x.abs() < 1e15 => Some(format!("{}", *x as i64)),
        _ => None,
    }
}

/// Reads a month's workbook (layout in the module documentation). With a scheme,
/// every row is also checked against it, so that each problem names its cell.
pub fn read(bytes: &[u8], scheme: Option<&Scheme>) -> Result<MonthBook, Vec<CellError>> {
    let mut e = Errors { list: Vec::new(), count: 0 };
    let mut book = match Book::open(bytes, Limits::MONTH) {
        Ok(b) => b,
        Err(err) => {
            e.at(err.sheet(), 0, None, err.to_string());
            return Err(e.list);
        }
    };
    let mut entries: Vec<EntryRow> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut month_of_book: Option<Month> = None;
    for name in book.sheet_names() {
        let base = name.split(" (").next().unwrap_or(&name);
        let month: Month = match base.parse() {
            Ok(m) => m,
            Err(err) => {
                e.at(&name, 0, None, format!("the sheet is not named after a month like 2027-03: {err}"));
                continue;
            }
        };
        match month_of_book {
            None => month_of_book = Some(month),
            Some(m) if m != month => {
                e.at(&name, 0, None, format!("the sheet is for another month than `{m}`; one workbook holds one month"));
                continue;
            }
            Some(_) => {}
        }
        if let Some(s) = scheme
            && month.year != s.year
        {
            e.at(&name, 0, None, format!("{month} is outside the scheme's year {}", s.year));
            continue;
        }
        let range = match book.sheet(&name) {
            Ok(r) => r,
            Err(err) => {
                // A bound crossed ends the read: later sheets would only cross it further.
                e.at(&name, 0, None, err.to_string());
                return Err(e.list);
            }
        };
        for &(r, c) in &range.merged {
            e.at(&name, r + 1, Some(c), "merged cells are not allowed");
        }
        for (r, c, f) in &range.formulas {
            e.at(&name, r + 1, Some(*c), format!("formulas are not accepted (`={f}`): type the value"));
        }
        if range.first_cell().is_some_and(|s| s != (0, 0)) {
            e.at(&name, 1, Some(0), "the header must be in row 1 from column A");
            continue;
        }
        let mut rows = range.rows();
        let header: Vec<String> = rows.next().unwrap_or_default().iter().map(|d| d.to_string().trim().to_string()).collect();
        let width = header.iter().rposition(|h| !h.is_empty()).map_or(0, |i| i + 1);
        let expected: Vec<&str> =
            if width > HEADER.len() { HEADER.iter().chain(&NAMES_HEADER).copied().collect() } else { HEADER.to_vec() };
        let mut header_ok = true;
        for (c, h) in expected.iter().enumerate() {
            let got = header.get(c).map_or("", String::as_str);
            if got != *h {
                e.at(&name, 1, Some(c as u32), format!("the header must be `{}`, here `{got}` is not `{h}`", expected.join(" | ")));
                header_ok = false;
            }
        }
        if width > expected.len() {
            e.at(&name, 1, Some(expected.len() as u32), format!("the header must be `{}` and nothing after it", expected.join(" | ")));
            header_ok = false;
        }
        if !header_ok {
            continue;
        }
        for (r, cells) in rows.enumerate() {
            let line = r as u32 + 2;
            if cells.iter().take(4).all(|d| matches!(d, Data::Empty) || matches!(d, Data::String(s) if s.trim().is_empty())) {
                continue;
            }
            let mut ids = [None, None, None];
            for (c, slot) in ids.iter_mut().enumerate() {
                *slot = id(cells.get(c));
                if slot.is_none() {
                    e.at(&name, line, Some(c as u32), format!("{} is missing", HEADER[c]));
                }
            }
            let [Some(unit), Some(indicator), Some(field)] = ids else { continue };
            let mut value = match cells.get(3) {
                None | Some(Data::Empty) => None,
                Some(Data::String(s)) if s.trim().is_empty() => None,
                Some(Data::Float(x)) => match serde_json::Number::from_f64(*x) {
                    Some(n) => Some(Value::Number(n)),
                    None => {
                        e.at(&name, line, Some(3), "not a finite number");
                        continue;
                    }
                },
                Some(Data::Int(i)) => Some(Value::from(*i)),
                Some(Data::Bool(b)) => Some(Value::Bool(*b)),
                Some(Data::String(s)) => {
                    e.at(&name, line, Some(3), format!("`{s}` is text, not a number"));
                    continue;
                }
                Some(other) => {
                    e.at(&name, line, Some(3), format!("`{other}` is not a number"));
                    continue;
                }
            };
            if let Some(s) = scheme {
                let mut ok = true;
                if s.unit_index(&unit).is_none() {
                    e.at(&name, line, Some(0), format!("unknown unit `{unit}`"));
                    ok = false;
                }
                let ind = match s.node_index(&indicator).map(|n| s.nodes[n].indicator.as_ref()) {
                    None => {
                        e.at(&name, line, Some(1), format!("unknown indicator `{indicator}`"));
                        None
                    }
                    Some(None) => {
                        e.at(&name, line, Some(1), format!("`{indicator}` is a category; data is reported for indicators"));
                        None
                    }
                    Some(Some(i)) if i.source == Source::Records => {
                        e.at(&name, line, Some(1), format!("indicator `{indicator}` counts records; it takes no entries"));
                        None
                    }
                    Some(Some(i)) => Some(i),
                };
                match ind.map(|i| i.fields.iter().find(|f| f.key == field)) {
                    Some(None) => {
                        e.at(&name, line, Some(2), format!("indicator `{indicator}` has no field `{field}`"));
                        ok = false;
                    }
                    Some(Some(def)) => {
                        if let Some(v) = &value
                            && let Err(m) = jixiao_core::data::field_value(def, v)
                        {
                            e.at(&name, line, Some(3), m);
                            ok = false;
                        }
                    }
                    None => ok = false,
                }
                if !ok {
                    value = None;
                }
            }
            let Some(value) = value else { continue };
            // Rows of an entry usually follow each other: look up only on a change.
            let same = entries.last().is_some_and(|last| last.unit == unit && last.indicator == indicator);
            let at = if same {
                entries.len() - 1
            } else {
                *index.entry((unit.clone(), indicator.clone())).or_insert_with(|| {
                    entries.push(EntryRow {
                        unit: unit.clone(),
                        indicator: indicator.clone(),
                        month: month.to_string(),
                        values: Map::new(),
                    });
                    entries.len() - 1
                })
            };
            if entries[at].values.insert(field.clone(), value).is_some() {
                e.at(&name, line, Some(2), format!("{unit} {indicator} {field} appears twice"));
            }
        }
    }
    let Some(month) = month_of_book else {
        if e.count == 0 {
            e.at("", 0, None, "the workbook has no sheet named after a month");
        }
        return Err(finish(e));
    };
    if e.count > 0 {
        return Err(finish(e));
    }
    Ok(MonthBook { month, file: DataFile { entries, records: Vec::new() } })
}

fn finish(mut e: Errors) -> Vec<CellError> {
    if e.count > e.list.len() {
        let more = e.count - e.list.len();
        e.list.push(CellError { sheet: String::new(), row: 0, column: String::new(), message: format!("… and {more} more errors") });
    }
    e.list
}

#[cfg(test)]
mod tests {
    use super::*;
    use jixiao_core::generate::synthetic;

    fn month_rows(file: &DataFile) -> Vec<Row<'_>> {
        file.entries
            .iter()
            .flat_map(|e| {
                e.values.iter().map(|(k, v)| Row {
                    unit: &e.unit,
                    indicator: &e.indicator,
                    field: k,
                    value: v.as_bool().map_or_else(|| Cell::Number(v.as_f64().unwrap()), Cell::Bool),
                    names: None,
                })
            })
            .collect()
    }

    #[test]
    fn a_month_reads_back_checked_against_its_scheme() {
        let (scheme, data) = synthetic(8, 12, 5);
        let scheme = Scheme::from_file(scheme).unwrap();
        let file = DataFile { entries: data.entries.into_iter().filter(|e| e.month == "2027-12").collect(), records: Vec::new() };
        let (bytes, sheets) = write("2027-12", month_rows(&file)).unwrap();
        assert_eq!(sheets, 1);
        let back = read(&bytes, Some(&scheme)).unwrap();
        assert_eq!(back.month.to_string(), "2027-12");
        assert_eq!(back.file.entries.len(), file.entries.len());
        jixiao_core::data::Dataset::load(&scheme, &back.file).unwrap();
    }

    #[test]
    fn bad_rows_name_their_cells() {
        let scheme = Scheme::from_file(synthetic(3, 4, 1).0).unwrap();
        let unit = scheme.units[0].id.clone();
        let ind = scheme
            .indicators
            .iter()
            .map(|&n| &scheme.nodes[n])
            .find(|n| n.indicator.as_ref().is_some_and(|i| !i.fields.is_empty()))
            .unwrap();
        let field = ind.indicator.as_ref().unwrap().fields[0].key.clone();
        let rows = vec![
            Row { unit: "u9999", indicator: &ind.id, field: &field, value: Cell::Number(1.0), names: None },
            Row { unit: &unit, indicator: "ZZ", field: &field, value: Cell::Number(1.0), names: None },
            Row { unit: &unit, indicator: &ind.id, field: "nope", value: Cell::Number(1.0), names: None },
        ];
        let (bytes, _) = write("2027-03", rows).unwrap();
        let errors: Vec<String> = read(&bytes, Some(&scheme)).unwrap_err().iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("2027-03!A2: unknown unit `u9999`"), "{errors:?}");
        assert!(errors[1].starts_with("2027-03!B3: unknown indicator `ZZ`"), "{errors:?}");
        assert!(errors[2].starts_with("2027-03!C4: "), "{errors:?}");
        let (bytes, _) = write("2026-03", Vec::new()).unwrap();
        let errors = read(&bytes, Some(&scheme)).unwrap_err();
        assert!(errors[0].to_string().contains("outside the scheme's year"), "{errors:?}");
        assert!(read(b"PK\x03\x04x", None).is_err());
    }
}
