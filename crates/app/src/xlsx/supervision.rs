//! The supervision ledger (督办台账) as a workbook: one sheet, a header row and one
//! row per task; evaluations are numbers, everything else text.

use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};

use super::sheet_name;

/// A cell of the ledger.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
}

/// The workbook of a sheet called `title` with `header` and `rows`.
pub fn write(title: &str, header: &[String], rows: &[Vec<Cell>]) -> Result<Vec<u8>, XlsxError> {
    let bold = Format::new().set_bold().set_background_color("#E5E7EB").set_border_bottom(FormatBorder::Thin).set_text_wrap();
    let score = Format::new().set_num_format("0.0");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name(sheet_name(title))?;
    for (c, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, name, &bold)?;
        sheet.set_column_width(c as u16, if c == 1 || c + 1 == header.len() { 36.0 } else { 14.0 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(t) => sheet.write_string((r + 1) as u32, c as u16, t)?,
                Cell::Number(x) => sheet.write_number_with_format((r + 1) as u32, c as u16, *x, &score)?,
            };
        }
    }
    book.save_to_buffer()
}
