//! A scheme (spec §2) as an Excel workbook an assessment office can read and edit,
//! both ways: `write` makes the workbook of a stored version, `parse` turns an
//! uploaded one back into a `SchemeFile` and validates it with `Scheme::from_file`,
//! the same check a JSON upload gets. Exporting a version and importing the workbook
//! gives the version's file back, equal key by key.
//!
//! Sheets (row 1 of each is its header, checked on import; rows are read from row 2,
//! and rows left entirely empty are skipped):
//!
//! - `方案` — the settings, one per row: `项目 | 值 | 说明`, with the items `年度`,
//!   `名称`, `折算总分` (`normalize_to`, empty for none), and the reporting rule
//!   `逾期扣分指标`, `逾期报送扣分`, `逾期未报扣分` (all three empty for no rule).
//! - `考核类别` — groups: `类别编号 | 类别名称`.
//! - `被考核单位` — units: `单位编号 | 单位名称 | 类别编号`.
//! - `等次` — grades, in the order they are tried: `等次 | 最低分 | 比例上限`.
//! - `指标` — the tree, one row per node in tree order:
//!   `编号 | 上级编号 | 名称 | 类型 | 分值 | 封顶 | 频次 | 计算区间 | 数据来源 | 公式 | 填报项 | 默认参数 | 填报单位 | 审核单位
//!   | 系统填报` (unit ids of the scheme's `entered_by` and `reviewed_by`, blank for the
//!   unit itself and the office; `filled_by`, e.g. `service` for the fields the
//!   service-request platform fills).
//!   A node's parent must be on a row above it; a node with rows below naming it is a
//!   category, children in row order. The name is indented by depth (cell format only;
//!   the text is the name). Empty cells are keys left out of the file. `类型` etc. take
//!   the Chinese words written (基础指标/加分项/减分项, 月度/季度/年度, 累计/当期,
//!   填报/积分记录) or the spec's English keywords. `填报项` has one field per line:
//!   `key 名称 [type, agg, >=min, <=max]`, the bracket listing only what differs from
//!   the defaults (`number`, `last`, no bounds); `[]` alone means an empty list.
//!   `默认参数` is `key=value` pairs separated by `;` or line breaks, or a JSON
//!   object; `{}` means an empty set.
//! - `考核对象` — the assignment rules of each indicator, in order: `指标编号 | 类别编号 |
//!   单位编号 | 参数 | 指标名称 | 对象名称`; exactly one of group and unit; params as in
//!   `默认参数`. Per-unit targets are unit rules with params. The two name columns are
//!   for reading and are not imported.
//! - `目标值` — for reading only (protected, not imported): the params each unit
//!   ends up with, one row per unit and one column per indicator param whose value
//!   differs between units.
//! - `填写说明` — how to fill the workbook (not imported).
//!
//! Reading is strict, as for the monthly form: a missing or unknown sheet, a changed
//! header, merged cells, Excel formulas, text in a number cell, a repeated or unknown
//! id, a parent below its child, a bad field or param cell — every one is listed as
//! `指标!E12: …`, and nothing is imported. Errors the scheme check finds afterwards
//! name the node (or unit, group, grade) with the row it is on.

use std::collections::HashMap;

use calamine::Data;
use jixiao_core::scheme::{
    Aggregation, AssignRule, FieldDef, FieldType, Frequency, GradeDef, GroupDef, Kind, NodeDef, Params, ReportingRule, Scheme, SchemeFile,
    Source, UnitDef, Window,
};
use rust_xlsxwriter::{DataValidation, DataValidationErrorStyle, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use serde_json::Value;

use super::sheet::{Book, BookError, CellError, Limits, column_name};

pub const SETTINGS: &str = "方案";
pub const GROUPS: &str = "考核类别";
pub const UNITS: &str = "被考核单位";
pub const GRADES: &str = "等次";
pub const TREE: &str = "指标";
pub const ASSIGN: &str = "考核对象";
pub const TARGETS: &str = "目标值";
pub const HELP: &str = "填写说明";

const SETTINGS_HEADER: [&str; 3] = ["项目", "值", "说明"];
const GROUPS_HEADER: [&str; 2] = ["类别编号", "类别名称"];
const UNITS_HEADER: [&str; 3] = ["单位编号", "单位名称", "类别编号"];
const GRADES_HEADER: [&str; 3] = ["等次", "最低分", "比例上限"];
const TREE_HEADER: [&str; 15] = [
    "编号",
    "上级编号",
    "名称",
    "类型",
    "分值",
    "封顶",
    "频次",
    "计算区间",
    "数据来源",
    "公式",
    "填报项",
    "默认参数",
    "填报单位",
    "审核单位",
    "系统填报",
];
const ASSIGN_HEADER: [&str; 6] = ["指标编号", "类别编号", "单位编号", "参数", "指标名称（不导入）", "对象名称（不导入）"];

const YEAR: &str = "年度";
const NAME: &str = "名称";
const NORMALIZE: &str = "折算总分";
const DEDUCTION: &str = "逾期扣分指标";
const LATE: &str = "逾期报送扣分";
const MISSING: &str = "逾期未报扣分";
const YELLOW: &str = "黄灯线";
const RED: &str = "红灯线";
const RED_COUNT: &str = "单位红灯指标数";
const SETTING_ROWS: [(&str, &str); 9] = [
    (YEAR, "考核年度，如 2027"),
    (NAME, "方案名称"),
    (NORMALIZE, "留空表示不折算；填写如 100，则总分按满分折算为该分值"),
    (DEDUCTION, "逾期报送、逾期未报记为该减分指标（数据来源为积分记录）的积分记录；三项都留空表示不自动扣分"),
    (LATE, "每逾期报送一个月记的分数（留空为 0）"),
    (MISSING, "每逾期未报一个月记的分数（留空为 0）"),
    (YELLOW, "警示灯：得分低于分值的该比例亮黄灯（如 0.8）；三项都留空用默认值"),
    (RED, "警示灯：得分低于分值的该比例亮红灯（如 0.6）"),
    (RED_COUNT, "警示灯：单位有几项指标亮红灯时单位亮红灯（如 3）"),
];

/// The deepest tree accepted (far deeper than any real scheme).
const MAX_DEPTH: usize = 32;
/// Errors listed at most; the count of the rest is given.
const MAX_ERRORS: usize = 200;

const KINDS: [(Kind, &str, &str); 3] =
    [(Kind::Regular, "基础指标", "regular"), (Kind::Bonus, "加分项", "bonus"), (Kind::Deduction, "减分项", "deduction")];
const FREQUENCIES: [(Frequency, &str, &str); 3] =
    [(Frequency::Monthly, "月度", "monthly"), (Frequency::Quarterly, "季度", "quarterly"), (Frequency::Annual, "年度", "annual")];
const WINDOWS: [(Window, &str, &str); 2] = [(Window::Ytd, "累计", "ytd"), (Window::Period, "当期", "period")];
const SOURCES: [(Source, &str, &str); 2] = [(Source::Fields, "填报", "fields"), (Source::Records, "积分记录", "records")];
const TYPES: [(FieldType, &str, &str); 4] = [
    (FieldType::Number, "数值", "number"),
    (FieldType::Integer, "整数", "integer"),
    (FieldType::Percent, "百分比", "percent"),
    (FieldType::Boolean, "是否", "boolean"),
];
const AGGS: [(Aggregation, &str, &str); 5] = [
    (Aggregation::Last, "末值", "last"),
    (Aggregation::Sum, "求和", "sum"),
    (Aggregation::Avg, "平均", "avg"),
    (Aggregation::Max, "最大", "max"),
    (Aggregation::Min, "最小", "min"),
];

fn word<T: PartialEq + Copy>(table: &[(T, &'static str, &'static str)], value: T) -> &'static str {
    table.iter().find(|(v, _, _)| *v == value).map_or("", |(_, zh, _)| zh)
}

fn english<T: PartialEq + Copy>(table: &[(T, &'static str, &'static str)], value: T) -> &'static str {
    table.iter().find(|(v, _, _)| *v == value).map_or("", |(_, _, en)| en)
}

fn words<T>(table: &[(T, &'static str, &'static str)]) -> Vec<&'static str> {
    table.iter().flat_map(|(_, zh, en)| [*zh, *en]).collect()
}

fn lookup<T: Copy>(table: &[(T, &'static str, &'static str)], text: &str) -> Option<T> {
    table.iter().find(|(_, zh, en)| *zh == text || en.eq_ignore_ascii_case(text)).map(|(v, _, _)| *v)
}

/// A number as written in the compact cells: Rust's shortest exact form.
fn num(x: f64) -> String {
    format!("{x}")
}

/// `key=value; key=value`, values as JSON text (so `100` and `100.0` stay apart).
fn params_text(p: &Params) -> String {
    p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

fn field_line(f: &FieldDef) -> String {
    let mut attrs = Vec::new();
    if f.field_type != FieldType::Number {
        attrs.push(english(&TYPES, f.field_type).to_string());
    }
    if f.agg != Aggregation::Last {
        attrs.push(english(&AGGS, f.agg).to_string());
    }
    if let Some(m) = f.min {
        attrs.push(format!(">={}", num(m)));
    }
    if let Some(m) = f.max {
        attrs.push(format!("<={}", num(m)));
    }
    let mut line = f.key.clone();
    if !f.name.is_empty() {
        line.push(' ');
        line.push_str(&f.name);
    }
    if !attrs.is_empty() || f.name.ends_with(']') {
        line.push_str(&format!(" [{}]", attrs.join(", ")));
    }
    line
}

fn fields_text(fields: &[FieldDef]) -> String {
    if fields.is_empty() {
        return "[]".into();
    }
    fields.iter().map(field_line).collect::<Vec<_>>().join("\n")
}

struct Formats {
    header: Format,
    wrap: Format,
    note: Format,
}

fn header(sheet: &mut Worksheet, names: &[&str], f: &Formats) -> Result<(), XlsxError> {
    for (c, h) in names.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &f.header)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn widths(sheet: &mut Worksheet, widths: &[f64]) -> Result<(), XlsxError> {
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, *w)?;
    }
    Ok(())
}

fn list_validation(sheet: &mut Worksheet, col: u16, last_row: u32, words: &[&str]) -> Result<(), XlsxError> {
    let v = DataValidation::new()
        .allow_list_strings(words)?
        .set_error_style(DataValidationErrorStyle::Warning)
        .set_error_message("请从列表中选择")?;
    sheet.add_data_validation(1, col, last_row.max(1), col, &v)?;
    Ok(())
}

/// The workbook of a scheme version (layout in the module documentation).
pub fn write(scheme: &Scheme) -> Result<Vec<u8>, XlsxError> {
    let file = &scheme.file;
    let mut book = Workbook::new();
    let f = Formats {
        header: Format::new().set_bold().set_background_color("#E5E7EB").set_border_bottom(FormatBorder::Thin),
        wrap: Format::new().set_align(FormatAlign::Top).set_text_wrap(),
        note: Format::new().set_align(FormatAlign::Top).set_text_wrap().set_font_color("#6B7280"),
    };
    let top = Format::new().set_align(FormatAlign::Top);

    let sheet = book.add_worksheet().set_name(SETTINGS)?;
    header(sheet, &SETTINGS_HEADER, &f)?;
    let rule = file.reporting.as_ref();
    for (i, (label, note)) in SETTING_ROWS.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, *label)?;
        match *label {
            YEAR => {
                sheet.write_number(r, 1, f64::from(file.year))?;
            }
            NAME => {
                sheet.write_string(r, 1, &file.name)?;
            }
            NORMALIZE => {
                if let Some(x) = file.normalize_to {
                    sheet.write_number(r, 1, x)?;
                }
            }
            DEDUCTION => {
                if let Some(rule) = rule {
                    sheet.write_string(r, 1, &rule.deduction)?;
                }
            }
            LATE => {
                if let Some(rule) = rule {
                    sheet.write_number(r, 1, rule.late_points)?;
                }
            }
            YELLOW | RED | RED_COUNT => {
                if let Some(l) = &file.lights {
                    let x = match *label {
                        YELLOW => l.yellow,
                        RED => l.red,
                        _ => l.red_count as f64,
                    };
                    sheet.write_number(r, 1, x)?;
                }
            }
            _ => {
                if let Some(rule) = rule {
                    sheet.write_number(r, 1, rule.missing_points)?;
                }
            }
        }
        sheet.write_string_with_format(r, 2, *note, &f.note)?;
    }
    widths(sheet, &[16.0, 48.0, 60.0])?;

    let sheet = book.add_worksheet().set_name(GROUPS)?;
    header(sheet, &GROUPS_HEADER, &f)?;
    for (i, g) in file.groups.iter().enumerate() {
        sheet.write_string(i as u32 + 1, 0, &g.id)?;
        sheet.write_string(i as u32 + 1, 1, &g.name)?;
    }
    widths(sheet, &[14.0, 30.0])?;

    let sheet = book.add_worksheet().set_name(UNITS)?;
    header(sheet, &UNITS_HEADER, &f)?;
    for (i, u) in file.units.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, &u.id)?;
        sheet.write_string(r, 1, &u.name)?;
        sheet.write_string(r, 2, &u.group)?;
    }
    widths(sheet, &[14.0, 34.0, 14.0])?;

    let sheet = book.add_worksheet().set_name(GRADES)?;
    header(sheet, &GRADES_HEADER, &f)?;
    for (i, g) in file.grades.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, &g.name)?;
        if let Some(x) = g.min_score {
            sheet.write_number(r, 1, x)?;
        }
        if let Some(x) = g.quota {
            sheet.write_number(r, 2, x)?;
        }
    }
    widths(sheet, &[14.0, 10.0, 10.0])?;

    let sheet = book.add_worksheet().set_name(TREE)?;
    header(sheet, &TREE_HEADER, &f)?;
    sheet.set_freeze_panes(1, 1)?;
    let mut rows = Vec::new();
    flatten(&file.tree, None, 0, &mut rows);
    for (i, (node, parent, depth)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string_with_format(r, 0, &node.id, &top)?;
        if let Some(p) = parent {
            sheet.write_string_with_format(r, 1, *p, &top)?;
        }
        let mut name = Format::new().set_align(FormatAlign::Top).set_indent((*depth).min(15) as u8);
        if node.children.is_some() {
            name = name.set_bold();
        }
        sheet.write_string_with_format(r, 2, &node.name, &name)?;
        if let Some(k) = node.kind {
            sheet.write_string_with_format(r, 3, word(&KINDS, k), &top)?;
        }
        if let Some(x) = node.points {
            sheet.write_number_with_format(r, 4, x, &top)?;
        }
        if let Some(x) = node.cap {
            sheet.write_number_with_format(r, 5, x, &top)?;
        }
        if let Some(x) = node.frequency {
            sheet.write_string_with_format(r, 6, word(&FREQUENCIES, x), &top)?;
        }
        if let Some(x) = node.window {
            sheet.write_string_with_format(r, 7, word(&WINDOWS, x), &top)?;
        }
        if let Some(x) = node.source {
            sheet.write_string_with_format(r, 8, word(&SOURCES, x), &top)?;
        }
        if let Some(x) = &node.formula {
            sheet.write_string_with_format(r, 9, x, &f.wrap)?;
        }
        if let Some(x) = &node.fields {
            sheet.write_string_with_format(r, 10, fields_text(x), &f.wrap)?;
        }
        if let Some(x) = &node.params {
            let text = if x.is_empty() { "{}".to_string() } else { params_text(x) };
            sheet.write_string_with_format(r, 11, text, &f.wrap)?;
        }
        for (c, unit) in [(12, &node.entered_by), (13, &node.reviewed_by), (14, &node.filled_by)] {
            if let Some(u) = unit {
                sheet.write_string_with_format(r, c, u, &top)?;
            }
        }
    }
    let last = rows.len() as u32;
    list_validation(sheet, 3, last, &KINDS.map(|k| k.1))?;
    list_validation(sheet, 6, last, &FREQUENCIES.map(|k| k.1))?;
    list_validation(sheet, 7, last, &WINDOWS.map(|k| k.1))?;
    list_validation(sheet, 8, last, &SOURCES.map(|k| k.1))?;
    widths(sheet, &[10.0, 10.0, 34.0, 10.0, 7.0, 7.0, 7.0, 9.0, 10.0, 48.0, 40.0, 22.0, 10.0, 10.0, 10.0])?;

    let sheet = book.add_worksheet().set_name(ASSIGN)?;
    header(sheet, &ASSIGN_HEADER, &f)?;
    let group_names: HashMap<&str, &str> = file.groups.iter().map(|g| (g.id.as_str(), g.name.as_str())).collect();
    let unit_names: HashMap<&str, &str> = file.units.iter().map(|u| (u.id.as_str(), u.name.as_str())).collect();
    let mut r = 0;
    for (node, _, _) in &rows {
        for rule in node.assign.iter().flatten() {
            r += 1;
            sheet.write_string(r, 0, &node.id)?;
            if let Some(g) = &rule.group {
                sheet.write_string(r, 1, g)?;
            }
            if let Some(u) = &rule.unit {
                sheet.write_string(r, 2, u)?;
            }
            let target = match (&rule.group, &rule.unit) {
                (Some(g), _) => group_names.get(g.as_str()).copied(),
                (None, Some(u)) => unit_names.get(u.as_str()).copied(),
                (None, None) => None,
            };
            if !rule.params.is_empty() {
                sheet.write_string(r, 3, params_text(&rule.params))?;
            }
            sheet.write_string_with_format(r, 4, &node.name, &f.note)?;
            if let Some(t) = target {
                sheet.write_string_with_format(r, 5, t, &f.note)?;
            }
        }
    }
    widths(sheet, &[10.0, 12.0, 12.0, 30.0, 30.0, 24.0])?;

    write_targets(&mut book, scheme, &f)?;

    let sheet = book.add_worksheet().set_name(HELP)?;
    let help = [
        "本工作簿是一个考核方案版本，可在 Excel 或 WPS 中修改后作为新版本上传（上传时需填写修改原因）。",
        "“方案”“考核类别”“被考核单位”“等次”“指标”“考核对象”六张表会被导入；“目标值”和本页只供查看。",
        "各表第 1 行是表头，不要修改；不要合并单元格，不要使用 Excel 公式；空白行会被跳过。",
        "指标：每行一个指标或类别，按树的顺序；“上级编号”必须是上方某行的编号；有下级的即为类别，其分值须等于下级分值之和。",
        "类型：基础指标、加分项、减分项（只在顶层填写）；频次：月度、季度、年度；计算区间：累计、当期；数据来源：填报、积分记录。留空即为默认值。",
        "填报项：每行一个，写作“编号 名称 [类型, 汇总方式, >=下限, <=上限]”，方括号中只写与默认值（number、last、无上下限）不同的项，例如：actual 累计到位资金(亿元) [>=0]。",
        "类型可写 number、integer、percent、boolean；汇总方式可写 last、sum、avg、max、min。",
        "默认参数与考核对象的参数：写作“target=100; base=10”。单位的目标值写在“考核对象”中该单位的一行。",
        "填报单位：由其他单位（考核责任部门）代为填报时填该单位编号，留空即各单位自行填报；审核单位：由某单位审核时填其编号，留空即由被考核单位负责人审核。",
        "上传后全部检查，有任何错误都不导入，并逐条列出出错的表、行和列。",
    ];
    for (i, line) in help.iter().enumerate() {
        sheet.write_string_with_format(i as u32, 0, *line, &f.wrap)?;
    }
    sheet.set_column_width(0, 110)?;
    sheet.protect();

    book.save_to_buffer()
}

fn flatten<'a>(nodes: &'a [NodeDef], parent: Option<&'a str>, depth: usize, out: &mut Vec<(&'a NodeDef, Option<&'a str>, usize)>) {
    for n in nodes {
        out.push((n, parent, depth));
        if let Some(children) = &n.children {
            flatten(children, Some(&n.id), depth + 1, out);
        }
    }
}

/// The read-only sheet of the params each unit ends up with, for the params that
/// differ between units.
fn write_targets(book: &mut Workbook, scheme: &Scheme, f: &Formats) -> Result<(), XlsxError> {
    // (node, param index) of the params whose value differs between assigned units.
    let mut columns = Vec::new();
    for (n, node) in scheme.nodes.iter().enumerate() {
        let Some(ind) = &node.indicator else { continue };
        for p in 0..ind.param_names.len() {
            let mut values = ind.assignments.iter().flatten().map(|a| a.get(p).copied().flatten().map(f64::to_bits));
            let first = values.next();
            if values.any(|v| Some(v) != first) {
                columns.push((n, p));
            }
        }
    }
    let sheet = book.add_worksheet().set_name(TARGETS)?;
    sheet.write_string_with_format(0, 0, "单位编号", &f.header)?;
    sheet.write_string_with_format(0, 1, "单位名称", &f.header)?;
    sheet.write_string_with_format(1, 0, "", &f.header)?;
    sheet.write_string_with_format(1, 1, "（只供查看，修改请在“考核对象”表）", &f.header)?;
    for (c, &(n, p)) in columns.iter().enumerate() {
        let node = &scheme.nodes[n];
        let Some(ind) = &node.indicator else { continue };
        let col = u16::try_from(c + 2).unwrap_or(u16::MAX);
        if col >= 16_384 {
            break;
        }
        sheet.write_string_with_format(0, col, format!("{} {}", node.id, ind.param_names[p]), &f.header)?;
        sheet.write_string_with_format(1, col, &node.name, &f.header)?;
        sheet.set_column_width(col, 14)?;
        for (u, a) in ind.assignments.iter().enumerate() {
            if let Some(x) = a.as_ref().and_then(|a| a.get(p).copied().flatten()) {
                sheet.write_number(u as u32 + 2, col, x)?;
            }
        }
    }
    for (u, unit) in scheme.units.iter().enumerate() {
        sheet.write_string(u as u32 + 2, 0, &unit.id)?;
        sheet.write_string(u as u32 + 2, 1, &unit.name)?;
    }
    if columns.is_empty() {
        sheet.write_string_with_format(2, 2, "没有因单位而异的考核参数", &f.note)?;
    }
    sheet.set_column_width(0, 12)?;
    sheet.set_column_width(1, 30)?;
    sheet.set_row_height(1, 30)?;
    sheet.set_freeze_panes(2, 2)?;
    sheet.protect();
    Ok(())
}

/// Where each thing read came from, to place the scheme check's findings.
#[derive(Debug, Default)]
pub struct Places {
    pub nodes: HashMap<String, u32>,
    pub units: HashMap<String, u32>,
    pub groups: HashMap<String, u32>,
    /// Sheet row of each grade, in order.
    pub grades: Vec<u32>,
}

/// Collects errors, keeping the first `MAX_ERRORS`.
#[derive(Default)]
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

    fn finish(mut self) -> Vec<CellError> {
        if self.count > self.list.len() {
            let more = self.count - self.list.len();
            self.list
                .push(CellError { sheet: String::new(), row: 0, column: String::new(), message: format!("… and {more} more errors") });
        }
        self.list
    }
}

/// One sheet being read: its cells and where its errors go.
struct Sheet<'a> {
    name: &'static str,
    cells: super::sheet::Sheet,
    header: &'a [&'a str],
}

impl Sheet<'_> {
    fn get(&self, r: u32, c: u32) -> Option<&Data> {
        self.cells.get(r, c)
    }

    fn last_row(&self) -> u32 {
        self.cells.last_row()
    }

    fn blank_row(&self, r: u32) -> bool {
        (0..self.header.len() as u32).all(|c| is_blank(self.get(r, c)))
    }

    /// An id or keyword: trimmed text; a whole number typed as a number is its digits.
    fn id(&self, r: u32, c: u32, e: &mut Errors) -> String {
        match self.get(r, c) {
            None | Some(Data::Empty) => String::new(),
            Some(Data::String(s)) => s.trim().to_string(),
            Some(Data::Int(i)) => i.to_string(),
            Some(Data::Float(x)) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
            Some(other) => {
                e.at(self.name, r + 1, Some(c), format!("{} must be text, not `{other}`", self.header[c as usize]));
                String::new()
            }
        }
    }

    /// Text as written (names, formulas); numbers in their shortest form.
    fn text(&self, r: u32, c: u32, e: &mut Errors) -> String {
        match self.get(r, c) {
            None | Some(Data::Empty) => String::new(),
            Some(Data::String(s)) => s.clone(),
            Some(Data::Int(i)) => i.to_string(),
            Some(Data::Float(x)) => num(*x),
            Some(other) => {
                e.at(self.name, r + 1, Some(c), format!("{} must be text, not `{other}`", self.header[c as usize]));
                String::new()
            }
        }
    }

    fn number(&self, r: u32, c: u32, e: &mut Errors) -> Option<f64> {
        let what = self.header.get(c as usize).copied().unwrap_or("the value");
        match self.get(r, c) {
            None | Some(Data::Empty) => None,
            Some(Data::Float(x)) => Some(*x),
            Some(Data::Int(i)) => Some(*i as f64),
            Some(Data::String(s)) if s.trim().is_empty() => None,
            Some(Data::String(s)) => {
                e.at(self.name, r + 1, Some(c), format!("{what} is not a number: `{s}` is text"));
                None
            }
            Some(other) => {
                e.at(self.name, r + 1, Some(c), format!("{what} is not a number: `{other}`"));
                None
            }
        }
    }
}

fn is_blank(d: Option<&Data>) -> bool {
    match d {
        None | Some(Data::Empty) => true,
        Some(Data::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}

/// Reads a `key=value; …` or JSON-object cell.
fn parse_params(text: &str) -> Result<Params, String> {
    let t = text.trim();
    if t.starts_with('{') {
        return serde_json::from_str::<Params>(t).map_err(|e| format!("not a JSON object of params: {e}"));
    }
    let mut params = Params::new();
    for part in t.split([';', '；', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once(['=', '＝']) else {
            return Err(format!("`{part}` is not `name=value`"));
        };
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            return Err(format!("`{part}` has no name"));
        }
        let value: Value = serde_json::from_str(v).map_err(|_| format!("param `{k}`: `{v}` is not a number"))?;
        if params.insert(k.to_string(), value).is_some() {
            return Err(format!("param `{k}` is given twice"));
        }
    }
    Ok(params)
}

/// Reads the `填报项` cell.
fn parse_fields(text: &str) -> Result<Vec<FieldDef>, String> {
    if text.trim() == "[]" {
        return Ok(Vec::new());
    }
    let mut fields = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (key, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let (name, attrs) = match rest.strip_suffix(']').and_then(|r| r.rfind('[').map(|i| (r, i))) {
            Some((r, i)) if i == 0 || r[..i].ends_with(char::is_whitespace) => (r[..i].trim_end(), Some(&r[i + 1..])),
            _ => (rest, None),
        };
        let mut field = FieldDef {
            key: key.to_string(),
            name: name.to_string(),
            field_type: FieldType::Number,
            agg: Aggregation::Last,
            min: None,
            max: None,
        };
        let (mut has_type, mut has_agg) = (false, false);
        for token in attrs.unwrap_or("").split([',', '，']).map(str::trim).filter(|t| !t.is_empty()) {
            let bound = |s: &str| s.trim().parse::<f64>().ok().filter(|x| x.is_finite());
            if let Some(x) = token.strip_prefix(">=").or_else(|| token.strip_prefix('≥')) {
                field.min = Some(bound(x).ok_or_else(|| format!("field `{key}`: `{token}` needs a number"))?);
            } else if let Some(x) = token.strip_prefix("<=").or_else(|| token.strip_prefix('≤')) {
                field.max = Some(bound(x).ok_or_else(|| format!("field `{key}`: `{token}` needs a number"))?);
            } else if let Some(t) = lookup(&TYPES, token).filter(|_| !has_type) {
                field.field_type = t;
                has_type = true;
            } else if let Some(a) = lookup(&AGGS, token).filter(|_| !has_agg) {
                field.agg = a;
                has_agg = true;
            } else {
                return Err(format!(
                    "field `{key}`: `{token}` is not a type (number, integer, percent, boolean), an aggregation (last, sum, avg, max, min) or a bound (>=0, <=100), or is given twice"
                ));
            }
        }
        fields.push(field);
    }
    Ok(fields)
}

/// What reading found: the file and where its parts came from.
pub struct Read {
    pub file: SchemeFile,
    pub places: Places,
}

/// Reads an uploaded workbook into a scheme file, without the scheme check; every
/// problem of the workbook at once.
pub fn read(bytes: &[u8]) -> Result<Read, Vec<CellError>> {
    let mut e = Errors::default();
    let mut book = match Book::open(bytes, Limits::SCHEME) {
        Ok(b) => b,
        Err(err) => {
            e.at(err.sheet(), 0, None, err.to_string());
            return Err(e.finish());
        }
    };
    let known = [SETTINGS, GROUPS, UNITS, GRADES, TREE, ASSIGN, TARGETS, HELP];
    for name in book.sheet_names() {
        if !known.contains(&name.as_str()) {
            e.at(&name, 0, None, format!("unknown sheet; a scheme workbook has the sheets {}", known.join("、")));
        }
    }
    let mut open = |name: &'static str, header: &'static [&'static str], e: &mut Errors| -> Option<Sheet<'static>> {
        let cells = match book.sheet(name) {
            Ok(c) => c,
            Err(BookError::Missing(_)) => {
                e.at(name, 0, None, "the sheet is missing; start from an exported workbook");
                return None;
            }
            Err(err) => {
                e.at(name, 0, None, err.to_string());
                return None;
            }
        };
        for &(r, c) in &cells.merged {
            e.at(name, r + 1, Some(c), "merged cells are not allowed");
        }
        for (r, c, f) in &cells.formulas {
            e.at(
                name,
                r + 1,
                Some(*c),
                format!("Excel formulas are not accepted (`={f}`): type the value (a scoring formula is written without `=`)"),
            );
        }
        let sheet = Sheet { name, cells, header };
        for (c, h) in header.iter().enumerate() {
            let got = match sheet.get(0, c as u32) {
                Some(Data::String(s)) => s.trim().to_string(),
                _ => String::new(),
            };
            if got != *h {
                e.at(name, 1, Some(c as u32), format!("the header must be `{h}`, not `{got}`"));
            }
        }
        Some(sheet)
    };
    let settings = open(SETTINGS, &SETTINGS_HEADER, &mut e);
    let groups_sheet = open(GROUPS, &GROUPS_HEADER, &mut e);
    let units_sheet = open(UNITS, &UNITS_HEADER, &mut e);
    let grades_sheet = open(GRADES, &GRADES_HEADER, &mut e);
    let tree_sheet = open(TREE, &TREE_HEADER, &mut e);
    let assign_sheet = open(ASSIGN, &ASSIGN_HEADER, &mut e);

    let mut places = Places::default();
    let mut file = SchemeFile {
        year: 0,
        name: String::new(),
        normalize_to: None,
        groups: Vec::new(),
        units: Vec::new(),
        grades: Vec::new(),
        tree: Vec::new(),
        reporting: None,
        lights: None,
        supervision: None,
    };

    if let Some(s) = &settings {
        let mut seen: HashMap<String, u32> = HashMap::new();
        let (mut year, mut name) = (None, None);
        let (mut deduction, mut late, mut missing) = (String::new(), None, None);
        let mut lights: (Option<f64>, Option<f64>, Option<f64>) = (None, None, None);
        let mut rule_row = 0;
        for r in 1..=s.last_row() {
            if s.blank_row(r) {
                continue;
            }
            let label = s.id(r, 0, &mut e);
            if let Some(first) = seen.insert(label.clone(), r + 1) {
                e.at(s.name, r + 1, Some(0), format!("`{label}` is already on row {first}"));
                continue;
            }
            match label.as_str() {
                YEAR => match s.number(r, 1, &mut e) {
                    Some(y) if y.fract() == 0.0 && (1.0..=9999.0).contains(&y) => year = Some(y as i32),
                    Some(y) => e.at(s.name, r + 1, Some(1), format!("the year must be a whole number, not {y}")),
                    None => e.at(s.name, r + 1, Some(1), "the year is missing"),
                },
                NAME => name = Some(s.text(r, 1, &mut e)),
                NORMALIZE => file.normalize_to = s.number(r, 1, &mut e),
                DEDUCTION => {
                    deduction = s.id(r, 1, &mut e);
                    rule_row = r + 1;
                }
                LATE => late = s.number(r, 1, &mut e),
                MISSING => missing = s.number(r, 1, &mut e),
                YELLOW => lights.0 = s.number(r, 1, &mut e),
                RED => lights.1 = s.number(r, 1, &mut e),
                RED_COUNT => lights.2 = s.number(r, 1, &mut e),
                other => {
                    e.at(s.name, r + 1, Some(0), format!("unknown item `{other}`; the items are {}", SETTING_ROWS.map(|r| r.0).join("、")))
                }
            }
        }
        match year {
            Some(y) => file.year = y,
            None if !seen.contains_key(YEAR) => e.at(s.name, 0, None, format!("the item `{YEAR}` is missing")),
            None => {}
        }
        match name {
            Some(n) => file.name = n,
            None => e.at(s.name, 0, None, format!("the item `{NAME}` is missing")),
        }
        if lights != (None, None, None) {
            let d = jixiao_core::lights::LightRule::default();
            let count = lights.2.map_or(d.red_count, |c| c.max(0.0) as usize);
            file.lights = Some(jixiao_core::lights::LightRule {
                yellow: lights.0.unwrap_or(d.yellow),
                red: lights.1.unwrap_or(d.red),
                red_count: count,
            });
        }
        if deduction.is_empty() {
            if late.is_some() || missing.is_some() {
                e.at(
                    s.name,
                    rule_row.max(1),
                    Some(1),
                    format!("`{DEDUCTION}` is needed when points for late or missing reports are given"),
                );
            }
        } else {
            file.reporting = Some(ReportingRule { deduction, late_points: late.unwrap_or(0.0), missing_points: missing.unwrap_or(0.0) });
        }
    }

    if let Some(s) = &groups_sheet {
        for r in 1..=s.last_row() {
            if s.blank_row(r) {
                continue;
            }
            let id = s.id(r, 0, &mut e);
            if id.is_empty() {
                e.at(s.name, r + 1, Some(0), "the group id is missing");
            } else if let Some(first) = places.groups.get(&id) {
                e.at(s.name, r + 1, Some(0), format!("group id `{id}` is already used on row {first}"));
            } else {
                places.groups.insert(id.clone(), r + 1);
            }
            file.groups.push(GroupDef { id, name: s.text(r, 1, &mut e) });
        }
    }

    if let Some(s) = &units_sheet {
        for r in 1..=s.last_row() {
            if s.blank_row(r) {
                continue;
            }
            let id = s.id(r, 0, &mut e);
            let group = s.id(r, 2, &mut e);
            if id.is_empty() {
                e.at(s.name, r + 1, Some(0), "the unit id is missing");
            } else if let Some(first) = places.units.get(&id) {
                e.at(s.name, r + 1, Some(0), format!("unit id `{id}` is already used on row {first}"));
            } else {
                places.units.insert(id.clone(), r + 1);
            }
            if groups_sheet.is_some() && !places.groups.contains_key(&group) {
                e.at(s.name, r + 1, Some(2), format!("unknown group `{group}`: not in the sheet {GROUPS}"));
            }
            file.units.push(UnitDef { id, name: s.text(r, 1, &mut e), group });
        }
    }

    if let Some(s) = &grades_sheet {
        for r in 1..=s.last_row() {
            if s.blank_row(r) {
                continue;
            }
            places.grades.push(r + 1);
            file.grades.push(GradeDef { name: s.text(r, 0, &mut e), min_score: s.number(r, 1, &mut e), quota: s.number(r, 2, &mut e) });
        }
    }

    // The tree: flat rows first, then assembled.
    let mut flat: Vec<(NodeDef, Option<usize>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut depth: Vec<usize> = Vec::new();
    if let Some(s) = &tree_sheet {
        for r in 1..=s.last_row() {
            if s.blank_row(r) {
                continue;
            }
            let row = r + 1;
            let id = s.id(r, 0, &mut e);
            let parent_id = s.id(r, 1, &mut e);
            let mut parent = None;
            if !parent_id.is_empty() {
                match index.get(&parent_id) {
                    Some(&p) if depth[p] + 1 >= MAX_DEPTH => {
                        e.at(s.name, row, Some(1), format!("the tree is deeper than {MAX_DEPTH} levels"))
                    }
                    Some(&p) => parent = Some(p),
                    None if parent_id == id => e.at(s.name, row, Some(1), "a node cannot be its own parent"),
                    None => e.at(s.name, row, Some(1), format!("parent `{parent_id}` is not a node on a row above")),
                }
            }
            let choice = |c: u32, what: &str, e: &mut Errors, words: &[&str]| {
                let t = s.id(r, c, e);
                if t.is_empty() {
                    return None;
                }
                if !words.iter().any(|w| w.eq_ignore_ascii_case(&t)) {
                    e.at(s.name, row, Some(c), format!("{what} must be one of {}, not `{t}`", words.join("、")));
                    return None;
                }
                Some(t)
            };
            let kind = choice(3, "类型", &mut e, &words(&KINDS)).and_then(|t| lookup(&KINDS, &t));
            let points = s.number(r, 4, &mut e);
            let cap = s.number(r, 5, &mut e);
            let frequency = choice(6, "频次", &mut e, &words(&FREQUENCIES)).and_then(|t| lookup(&FREQUENCIES, &t));
            let window = choice(7, "计算区间", &mut e, &words(&WINDOWS)).and_then(|t| lookup(&WINDOWS, &t));
            let source = choice(8, "数据来源", &mut e, &words(&SOURCES)).and_then(|t| lookup(&SOURCES, &t));
            let formula = Some(s.text(r, 9, &mut e)).filter(|f| !f.trim().is_empty());
            let fields_text = s.text(r, 10, &mut e);
            let fields = if fields_text.trim().is_empty() {
                None
            } else {
                match parse_fields(&fields_text) {
                    Ok(f) => Some(f),
                    Err(m) => {
                        e.at(s.name, row, Some(10), m);
                        None
                    }
                }
            };
            let params_cell = s.text(r, 11, &mut e);
            let params = if params_cell.trim().is_empty() {
                None
            } else {
                match parse_params(&params_cell) {
                    Ok(p) => Some(p),
                    Err(m) => {
                        e.at(s.name, row, Some(11), m);
                        None
                    }
                }
            };
            if id.is_empty() {
                e.at(s.name, row, Some(0), "the node id is missing");
                continue;
            }
            if let Some(first) = places.nodes.get(&id) {
                e.at(s.name, row, Some(0), format!("node id `{id}` is already used on row {first}"));
                continue;
            }
            places.nodes.insert(id.clone(), row);
            index.insert(id.clone(), flat.len());
            depth.push(parent.map_or(0, |p| depth[p] + 1));
            let node = NodeDef {
                id,
                name: s.text(r, 2, &mut e),
                kind,
                points,
                cap,
                children: None,
                frequency,
                window,
                source,
                fields,
                params,
                formula,
                assign: None,
                entered_by: Some(s.id(r, 12, &mut e)).filter(|u| !u.is_empty()),
                reviewed_by: Some(s.id(r, 13, &mut e)).filter(|u| !u.is_empty()),
                filled_by: Some(s.id(r, 14, &mut e)).filter(|u| !u.is_empty()),
            };
            flat.push((node, parent));
        }
    }
    let mut has_children = vec![false; flat.len()];
    for (_, p) in &flat {
        if let Some(p) = p {
            has_children[*p] = true;
        }
    }
    for (i, (node, _)) in flat.iter_mut().enumerate() {
        if !has_children[i] {
            node.assign = Some(Vec::new());
        }
    }
    if let Some(s) = &assign_sheet {
        for r in 1..=s.last_row() {
            if s.blank_row(r) {
                continue;
            }
            let row = r + 1;
            let indicator = s.id(r, 0, &mut e);
            let group = s.id(r, 1, &mut e);
            let unit = s.id(r, 2, &mut e);
            let params_cell = s.text(r, 3, &mut e);
            let params = match parse_params(&params_cell) {
                Ok(p) => p,
                Err(m) => {
                    e.at(s.name, row, Some(3), m);
                    Params::new()
                }
            };
            match (group.is_empty(), unit.is_empty()) {
                (true, true) => e.at(s.name, row, Some(1), "give a group or a unit"),
                (false, false) => e.at(s.name, row, Some(2), "give either a group or a unit, not both"),
                (false, true) if groups_sheet.is_some() && !places.groups.contains_key(&group) => {
                    e.at(s.name, row, Some(1), format!("unknown group `{group}`: not in the sheet {GROUPS}"))
                }
                (true, false) if units_sheet.is_some() && !places.units.contains_key(&unit) => {
                    e.at(s.name, row, Some(2), format!("unknown unit `{unit}`: not in the sheet {UNITS}"))
                }
                _ => {}
            }
            let Some(&n) = index.get(&indicator) else {
                if indicator.is_empty() {
                    e.at(s.name, row, Some(0), "the indicator id is missing");
                } else if tree_sheet.is_some() {
                    e.at(s.name, row, Some(0), format!("unknown indicator `{indicator}`: not in the sheet {TREE}"));
                }
                continue;
            };
            if has_children[n] {
                e.at(s.name, row, Some(0), format!("`{indicator}` is a category; only indicators are assigned"));
                continue;
            }
            let rule = AssignRule { group: Some(group).filter(|g| !g.is_empty()), unit: Some(unit).filter(|u| !u.is_empty()), params };
            flat[n].0.assign.get_or_insert_with(Vec::new).push(rule);
        }
    }
    if e.count > 0 {
        return Err(e.finish());
    }
    // Assemble children bottom-up: a child's row is always below its parent's.
    let mut slots: Vec<Option<NodeDef>> = Vec::with_capacity(flat.len());
    let mut parents = Vec::with_capacity(flat.len());
    for (node, parent) in flat {
        slots.push(Some(node));
        parents.push(parent);
    }
    let mut children: Vec<Vec<NodeDef>> = (0..slots.len()).map(|_| Vec::new()).collect();
    for i in (0..slots.len()).rev() {
        let Some(mut node) = slots[i].take() else { continue };
        let mine = std::mem::take(&mut children[i]);
        if !mine.is_empty() {
            node.children = Some(mine.into_iter().rev().collect());
        }
        match parents[i] {
            Some(p) => children[p].push(node),
            None => file.tree.push(node),
        }
    }
    file.tree.reverse();
    Ok(Read { file, places })
}

/// Reads and checks an uploaded scheme workbook: the validated scheme, or every
/// problem as a line (`指标!E12: …`, or a node's problem with its row).
pub fn parse(bytes: &[u8]) -> Result<Scheme, Vec<String>> {
    let read = read(bytes).map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    Scheme::from_file(read.file).map_err(|err| {
        err.issues
            .iter()
            .map(|issue| {
                let at = |sheet: &str, places: &HashMap<String, u32>, id: &str| places.get(id).map(|r| format!("{sheet}!A{r}"));
                let place = if let Some(id) = issue.location.strip_prefix("node ") {
                    at(TREE, &read.places.nodes, id)
                } else if let Some(id) = issue.location.strip_prefix("unit ") {
                    at(UNITS, &read.places.units, id)
                } else if let Some(id) = issue.location.strip_prefix("group ") {
                    at(GROUPS, &read.places.groups, id)
                } else if let Some(i) =
                    issue.location.strip_prefix("grades[").and_then(|s| s.strip_suffix(']')).and_then(|s| s.parse::<usize>().ok())
                {
                    read.places.grades.get(i).map(|r| format!("{GRADES}!A{r}"))
                } else if issue.location == "scheme" {
                    Some(SETTINGS.to_string())
                } else {
                    None
                };
                match place {
                    Some(p) => format!("{p} ({}): {}", issue.location, issue.message),
                    None => issue.to_string(),
                }
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(file: SchemeFile) {
        let scheme = Scheme::from_file(file.clone()).expect("a valid scheme");
        let bytes = write(&scheme).expect("written");
        let back = match parse(&bytes) {
            Ok(s) => s.file,
            Err(errors) => panic!("does not read back: {errors:#?}"),
        };
        assert_eq!(back, file);
    }

    #[test]
    fn demo_and_synthetic_schemes_round_trip() {
        round_trip(jixiao_core::generate::demo_district(2027, 3, 1).0);
        round_trip(jixiao_core::generate::synthetic(40, 60, 3).0);
        let mut file = jixiao_core::generate::synthetic(5, 8, 1).0;
        file.normalize_to = None;
        if let Some(y) = file.tree.iter().find(|n| n.kind == Some(Kind::Deduction)) {
            let id = y.children.as_ref().unwrap()[0].id.clone();
            file.reporting = Some(ReportingRule { deduction: id, late_points: 0.5, missing_points: 0.0 });
            file.lights = Some(jixiao_core::lights::LightRule { yellow: 0.85, red: 0.5, red_count: 2 });
        }
        round_trip(file.clone());
        // Who enters and reviews an indicator.
        let unit = file.units[0].id.clone();
        fn first_leaf(nodes: &mut [NodeDef]) -> Option<&mut NodeDef> {
            nodes.iter_mut().find_map(|n| if n.children.is_some() { first_leaf(n.children.as_mut()?) } else { Some(n) })
        }
        let leaf = first_leaf(&mut file.tree).unwrap();
        leaf.entered_by = Some(unit.clone());
        leaf.reviewed_by = Some(unit);
        round_trip(file);
    }

    #[test]
    fn compact_fields_read_back() {
        let fields = vec![
            FieldDef {
                key: "a".into(),
                name: "累计到位资金(亿元)".into(),
                field_type: FieldType::Number,
                agg: Aggregation::Last,
                min: Some(0.0),
                max: None,
            },
            FieldDef {
                key: "b".into(),
                name: String::new(),
                field_type: FieldType::Percent,
                agg: Aggregation::Sum,
                min: Some(-1.5),
                max: Some(100.0),
            },
            FieldDef {
                key: "c".into(),
                name: "完成率 [含子项]".into(),
                field_type: FieldType::Number,
                agg: Aggregation::Last,
                min: None,
                max: None,
            },
            FieldDef {
                key: "d".into(),
                name: "名称 带 空格".into(),
                field_type: FieldType::Boolean,
                agg: Aggregation::Max,
                min: None,
                max: None,
            },
        ];
        assert_eq!(parse_fields(&fields_text(&fields)).unwrap(), fields);
        assert_eq!(parse_fields("[]").unwrap(), vec![]);
        assert!(parse_fields("x 名称 [numbr]").unwrap_err().contains("numbr"));
        assert!(parse_fields("x [>=abc]").unwrap_err().contains(">=abc"));
        assert_eq!(parse_fields("x 名称 [百分比, 求和, ≥0]").unwrap()[0].field_type, FieldType::Percent);
    }

    #[test]
    fn params_keep_their_numbers() {
        let p = parse_params("target=100; rate=0.5\nbase=100.0").unwrap();
        assert_eq!(Value::Object(p.clone()).to_string(), r#"{"target":100,"rate":0.5,"base":100.0}"#);
        assert_eq!(parse_params(&params_text(&p)).unwrap(), p);
        assert_eq!(parse_params(r#"{"target": 5}"#).unwrap()["target"], 5);
        assert!(parse_params("target").unwrap_err().contains("name=value"));
        assert!(parse_params("target=abc").unwrap_err().contains("not a number"));
        assert!(parse_params("a=1; a=2").unwrap_err().contains("twice"));
    }

    #[test]
    fn not_a_workbook_is_an_error_not_a_panic() {
        for bytes in [&b""[..], b"PK\x03\x04garbage", b"{}"] {
            assert!(read(bytes).is_err());
        }
    }
}
