//! The monthly form as an Excel workbook (.xlsx), both ways: a template to fill in
//! Excel or WPS, and the filled workbook read back.
//!
//! Layout of the sheet `填报` (its name and header are checked on upload):
//!
//! | A 指标编号 | B 指标名称 | C 填报项编号 | D 填报项名称 | E 类型 | F 下限 | G 上限 | H 上月 | I 本月数值 | J 说明 |
//!
//! One row per field of each indicator due; only column I (the value) and J (a reason
//! for a big change) are meant to be typed into: the sheet is protected except for
//! them, and I carries data validation for the field's type and bounds. The sheet
//! `说明` names the unit and month in B1 and B2, so a workbook cannot be uploaded into
//! another unit's or month's form.
//!
//! Reading is strict, since the file comes from outside: a missing sheet, a changed
//! header, merged cells, formulas, text in a value cell, an unknown indicator or field,
//! or the wrong unit or month is an error naming sheet, row and column, and a file
//! with any error changes nothing (`collection::apply` is then not even called).

use calamine::Data;
use jixiao_core::period::Month;
use jixiao_core::scheme::{FieldType, Scheme};
use rust_xlsxwriter::{DataValidation, DataValidationRule, Format, FormatAlign, Workbook};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::sheet::{Book, BookError, CellError, Limits, column_name};

pub const SHEET: &str = "填报";
pub const INFO_SHEET: &str = "说明";
pub const HEADER: [&str; 10] = ["指标编号", "指标名称", "填报项编号", "填报项名称", "类型", "下限", "上限", "上月", "本月数值", "说明"];
const VALUE_COL: u16 = 8;
const REASON_COL: u16 = 9;

/// A row of the template.
pub struct TemplateRow<'a> {
    pub indicator: &'a str,
    pub indicator_name: &'a str,
    pub field: &'a str,
    pub field_name: &'a str,
    pub field_type: FieldType,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub last_month: Option<f64>,
    pub value: Option<f64>,
}

fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Number => "数值",
        FieldType::Integer => "整数",
        FieldType::Percent => "百分比",
        FieldType::Boolean => "是/否(1/0)",
    }
}

/// Writes the template of `unit` for `month`.
pub fn template(unit: &str, unit_name: &str, month: Month, rows: &[TemplateRow<'_>]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_background_color("#F3F4F6");
    let input = Format::new().set_unlocked().set_background_color("#FFF9DB");
    let wrap = Format::new().set_align(FormatAlign::Top).set_text_wrap();
    let sheet = book.add_worksheet().set_name(SHEET)?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write(row, 0, r.indicator)?;
        sheet.write_with_format(row, 1, r.indicator_name, &wrap)?;
        sheet.write(row, 2, r.field)?;
        sheet.write_with_format(row, 3, r.field_name, &wrap)?;
        sheet.write(row, 4, type_name(r.field_type))?;
        if let Some(x) = r.min {
            sheet.write(row, 5, x)?;
        }
        if let Some(x) = r.max {
            sheet.write(row, 6, x)?;
        }
        if let Some(x) = r.last_month {
            sheet.write(row, 7, x)?;
        }
        match r.value {
            Some(x) => sheet.write_with_format(row, VALUE_COL, x, &input)?,
            None => sheet.write_blank(row, VALUE_COL, &input)?,
        };
        sheet.write_blank(row, REASON_COL, &input)?;
        let (lo, hi) = (r.min.unwrap_or(-1e15), r.max.unwrap_or(1e15));
        let validation = match r.field_type {
            FieldType::Boolean => DataValidation::new().allow_whole_number(DataValidationRule::Between(0, 1)),
            FieldType::Integer => DataValidation::new()
                .allow_whole_number(DataValidationRule::Between(lo.max(f64::from(i32::MIN)) as i32, hi.min(f64::from(i32::MAX)) as i32)),
            _ => DataValidation::new().allow_decimal_number(DataValidationRule::Between(lo, hi)),
        }
        .set_error_message("数值不符合该填报项的类型或范围")?;
        sheet.add_data_validation(row, VALUE_COL, row, VALUE_COL, &validation)?;
    }
    for (c, width) in [(0, 10.0), (1, 24.0), (2, 12.0), (3, 28.0), (4, 10.0), (5, 8.0), (6, 8.0), (7, 10.0), (8, 14.0), (9, 30.0)] {
        sheet.set_column_width(c, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.protect();
    let info = book.add_worksheet().set_name(INFO_SHEET)?;
    info.write(0, 0, "单位编号")?;
    info.write(0, 1, unit)?;
    info.write(1, 0, "月份")?;
    info.write(1, 1, month.to_string())?;
    info.write(2, 0, "单位名称")?;
    info.write(2, 1, unit_name)?;
    info.write(3, 0, "填写说明")?;
    info.write(3, 1, "只在“本月数值”列填写数值；与上月相比变化较大时在“说明”列写明原因。上传后全部检查，有任何错误则不导入。")?;
    info.set_column_width(1, 60)?;
    info.protect();
    book.save_to_buffer()
}

/// What an uploaded workbook asks for: values and reasons by indicator.
#[derive(Debug, Default)]
pub struct Upload {
    pub values: BTreeMap<String, Map<String, Value>>,
    pub reasons: BTreeMap<String, String>,
    /// The sheet row of each (indicator, field), to place later problems.
    pub rows: BTreeMap<(String, String), u32>,
}

fn text(d: Option<&Data>) -> String {
    match d {
        Some(Data::String(s)) => s.trim().to_string(),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::Float(f)) => f.to_string(),
        Some(Data::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Reads a filled template for `unit` and `month` against `scheme`; every problem of
/// the file at once, or what it asks for.
pub fn read(bytes: &[u8], scheme: &Scheme, unit: &str, month: Month) -> Result<Upload, Vec<CellError>> {
    let err = |sheet: &str, row: u32, col: Option<u32>, message: String| CellError {
        sheet: sheet.to_string(),
        row,
        column: col.map(column_name).unwrap_or_default(),
        message,
    };
    let refused = |e: BookError| vec![err(e.sheet(), 0, None, e.to_string())];
    let mut book = Book::open(bytes, Limits::FORM).map_err(refused)?;
    let mut errors = Vec::new();
    // The unit and month the template was made for.
    match book.sheet(INFO_SHEET) {
        Ok(info) => {
            let (u, m) = (text(info.get(0, 1)), text(info.get(1, 1)));
            if u != unit {
                errors.push(err(INFO_SHEET, 1, Some(1), format!("the workbook is for unit `{u}`, not `{unit}`")));
            }
            if m != month.to_string() {
                errors.push(err(INFO_SHEET, 2, Some(1), format!("the workbook is for month `{m}`, not `{month}`")));
            }
        }
        Err(BookError::Missing(_)) => errors.push(err(INFO_SHEET, 0, None, "the sheet is missing".into())),
        Err(e) => return Err(refused(e)),
    }
    let range = match book.sheet(SHEET) {
        Ok(r) => r,
        Err(BookError::Missing(_)) => {
            errors.push(err(SHEET, 0, None, format!("the sheet `{SHEET}` is missing; use the template as downloaded")));
            return Err(errors);
        }
        Err(e) => return Err(refused(e)),
    };
    for &(r, c) in &range.merged {
        errors.push(err(SHEET, r + 1, Some(c), "merged cells are not allowed".into()));
    }
    for (r, c, f) in &range.formulas {
        errors.push(err(SHEET, r + 1, Some(*c), format!("formulas are not accepted (`={f}`): type the value")));
    }
    for (c, h) in HEADER.iter().enumerate() {
        if text(range.get(0, c as u32)) != *h {
            errors.push(err(SHEET, 1, Some(c as u32), format!("the header must be `{h}`")));
        }
    }
    let mut upload = Upload::default();
    let end = range.last_row();
    for r in 1..=end {
        let indicator = text(range.get(r, 0));
        let field = text(range.get(r, 2));
        let value = range.get(r, u32::from(VALUE_COL));
        if indicator.is_empty() && field.is_empty() {
            continue;
        }
        let row = r + 1;
        let Some(node) = scheme.node_index(&indicator).filter(|&n| scheme.nodes[n].indicator.is_some()) else {
            errors.push(err(SHEET, row, Some(0), format!("unknown indicator `{indicator}`")));
            continue;
        };
        let ind = scheme.nodes[node].indicator.as_ref().expect("checked above");
        let Some(def) = ind.fields.iter().find(|f| f.key == field) else {
            errors.push(err(SHEET, row, Some(2), format!("indicator `{indicator}` has no field `{field}`")));
            continue;
        };
        upload.rows.insert((indicator.clone(), field.clone()), row);
        let reason = text(range.get(r, u32::from(REASON_COL)));
        if !reason.is_empty() {
            upload.reasons.insert(indicator.clone(), reason);
        }
        let number = match value {
            None | Some(Data::Empty) => continue,
            Some(Data::Float(f)) => *f,
            Some(Data::Int(i)) => *i as f64,
            Some(Data::Bool(b)) if def.field_type == FieldType::Boolean => f64::from(u8::from(*b)),
            Some(Data::String(s)) if s.trim().is_empty() => continue,
            Some(Data::String(s)) => match s.trim().parse::<f64>() {
                Ok(x) => x,
                Err(_) => {
                    errors.push(err(SHEET, row, Some(u32::from(VALUE_COL)), format!("`{s}` is text, not a number")));
                    continue;
                }
            },
            Some(other) => {
                errors.push(err(SHEET, row, Some(u32::from(VALUE_COL)), format!("`{other}` is not a number")));
                continue;
            }
        };
        let json = serde_json::Number::from_f64(number).map(Value::Number);
        match json {
            Some(v) => {
                upload.values.entry(indicator).or_default().insert(field, v);
            }
            None => errors.push(err(SHEET, row, Some(u32::from(VALUE_COL)), "not a finite number".into())),
        }
    }
    if errors.is_empty() { Ok(upload) } else { Err(errors) }
}

/// Where a problem found after reading (bounds, jumps) is: the value cell of the
/// field, or of the indicator's first row.
pub fn place(upload: &Upload, indicator: &str, field: Option<&str>) -> (u32, String) {
    let row = field
        .and_then(|f| upload.rows.get(&(indicator.to_string(), f.to_string())))
        .or_else(|| upload.rows.iter().find(|((i, _), _)| i == indicator).map(|(_, r)| r))
        .copied()
        .unwrap_or(0);
    (row, column_name(u32::from(VALUE_COL)))
}
