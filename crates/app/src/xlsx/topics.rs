//! The topic reports (专题统计) as a workbook: one sheet per topic (innovation projects,
//! discipline and conduct, information and research), a row per unit and month with
//! the number of records and their points.

use jixiao_core::records::Topic;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::i18n::Tr;
use crate::records::TopicLine;

/// The workbook of `lines` for `year`.
pub fn write(tr: &Tr, year: i32, lines: &[TopicLine]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for topic in Topic::REPORTED {
        let sheet = book.add_worksheet();
        sheet.set_name(super::sheet_name(&format!("{year} {}", tr.t(&format!("records.topic.{}", topic.code())))))?;
        for (c, key) in
            ["records.field.unit_id", "records.field.unit", "records.field.month", "records.field.count", "records.field.points"]
                .into_iter()
                .enumerate()
        {
            sheet.write_string_with_format(0, u16::try_from(c).unwrap_or(0), tr.t(key), &bold)?;
        }
        let mut row = 1u32;
        let (mut count, mut points) = (0usize, 0.0);
        for l in lines.iter().filter(|l| l.topic == topic) {
            sheet.write_string(row, 0, &l.unit_id)?;
            sheet.write_string(row, 1, &l.unit_name)?;
            sheet.write_string(row, 2, &l.month)?;
            sheet.write_number(row, 3, l.count as f64)?;
            sheet.write_number(row, 4, l.points)?;
            count += l.count;
            points += l.points;
            row += 1;
        }
        sheet.write_string_with_format(row, 1, tr.t("records.total"), &bold)?;
        sheet.write_number_with_format(row, 3, count as f64, &bold)?;
        sheet.write_number_with_format(row, 4, jixiao_core::round::round2(points), &bold)?;
        sheet.set_column_width(0, 12)?;
        sheet.set_column_width(1, 28)?;
        sheet.set_column_width(2, 10)?;
        sheet.set_freeze_panes(1, 0)?;
    }
    book.save_to_buffer()
}
