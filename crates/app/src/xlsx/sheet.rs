//! The one reader of uploaded .xlsx workbooks, bounded before it allocates.
//!
//! An .xlsx file is a zip of XML parts, and a few kilobytes can describe a sheet of
//! 17 billion cells (`A1` and `XFD1048576`) or a part that inflates to gigabytes. Every
//! workbook that comes from outside — the monthly form, the office's month import, a
//! scheme, per-unit targets — is read here, under the `Limits` of its kind:
//!
//! 1. the zip is walked first and every part inflated into nothing, counting bytes, so
//!    a zip bomb or a lying size header is refused before the spreadsheet parser
//!    reads a byte of it (that parser holds shared strings and pictures in memory);
//! 2. the sheets are read cell by cell as a stream, and a cell beyond the kind's rows
//!    or columns, or one cell too many, stops the read — the grid grows only with
//!    cells that are really there, never from a declared or implied size.
//!
//! A refusal names what was over which bound, and where; nothing is allocated for it.
//! `read_upload` also runs the read off the async runtime and at most a few at a
//! time, so one large upload cannot starve or exhaust the server.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};

/// The bounds of one kind of workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The sum of every part's inflated size.
    pub unzipped_bytes: u64,
    /// Parts in the zip.
    pub parts: usize,
    /// Worksheets.
    pub sheets: usize,
    /// Rows of a sheet (row numbers above this are refused).
    pub rows: u32,
    /// Columns of a sheet (`A` = 1).
    pub columns: u32,
    /// Cells with any content or style, over all sheets read.
    pub cells: usize,
}

impl Limits {
    /// A unit's monthly form: a row per field of the month's indicators.
    pub const FORM: Limits = Limits { unzipped_bytes: 32 << 20, parts: 64, sheets: 8, rows: 10_000, columns: 32, cells: 200_000 };
    /// Per-unit targets of one parameter: a row per unit.
    pub const TARGETS: Limits = Limits { unzipped_bytes: 32 << 20, parts: 64, sheets: 8, rows: 100_000, columns: 16, cells: 400_000 };
    /// A scheme: settings, groups, units, grades, the tree, assignments, targets.
    pub const SCHEME: Limits = Limits { unzipped_bytes: 128 << 20, parts: 128, sheets: 16, rows: 200_000, columns: 512, cells: 4_000_000 };
    /// A whole month of every unit: a row per value (a province's 2,000 units × 300
    /// indicators is about 640,000 rows, which Excel splits over sheets).
    pub const MONTH: Limits = Limits { unzipped_bytes: 768 << 20, parts: 256, sheets: 64, rows: 1_048_576, columns: 16, cells: 12_000_000 };
}

/// Why a workbook was refused before its content was looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    #[error("not an .xlsx workbook: {0}")]
    NotXlsx(String),
    #[error("the workbook inflates to more than {limit} bytes (at the part `{part}`); a workbook of this kind is smaller")]
    Unzipped { part: String, limit: u64 },
    #[error("the workbook has {count} parts, more than the {limit} a workbook of this kind needs")]
    Parts { count: usize, limit: usize },
    #[error("the workbook has {count} sheets, more than the {limit} a workbook of this kind has")]
    Sheets { count: usize, limit: usize },
    #[error("the sheet `{0}` is missing")]
    Missing(String),
    #[error("the sheet `{sheet}` cannot be read: {message}")]
    Unreadable { sheet: String, message: String },
    #[error("the sheet `{sheet}` has a cell at {cell}, outside the {rows} rows and {columns} columns a workbook of this kind has")]
    OutOfBounds { sheet: String, cell: String, rows: u32, columns: u32 },
    #[error("the sheet `{sheet}` has more than {limit} cells (counting every sheet read)")]
    Cells { sheet: String, limit: usize },
}

impl BookError {
    /// The sheet the refusal is about, if one.
    pub fn sheet(&self) -> &str {
        match self {
            BookError::Missing(s) => s,
            BookError::Unreadable { sheet, .. } | BookError::OutOfBounds { sheet, .. } | BookError::Cells { sheet, .. } => sheet,
            _ => "",
        }
    }
}

/// An opened workbook whose parts are known to inflate within its limits.
pub struct Book {
    xlsx: Xlsx<Cursor<Vec<u8>>>,
    limits: Limits,
    cells_read: usize,
}

/// One sheet as read: its cells by (row, column) from `A1`, formulas and merged
/// areas apart.
#[derive(Debug, Default)]
pub struct Sheet {
    pub name: String,
    rows: Vec<Vec<Data>>,
    /// (row, column, formula text without `=`), 0-based.
    pub formulas: Vec<(u32, u32, String)>,
    /// The top-left cell of each merged area, 0-based.
    pub merged: Vec<(u32, u32)>,
}

impl Book {
    /// Checks the zip against `limits`, then opens the workbook.
    pub fn open(bytes: &[u8], limits: Limits) -> Result<Book, BookError> {
        check_zip(bytes, limits)?;
        let xlsx = Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|e| BookError::NotXlsx(e.to_string()))?;
        let count = xlsx.sheet_names().len();
        if count > limits.sheets {
            return Err(BookError::Sheets { count, limit: limits.sheets });
        }
        Ok(Book { xlsx, limits, cells_read: 0 })
    }

    pub fn sheet_names(&self) -> Vec<String> {
        self.xlsx.sheet_names()
    }

    /// Reads one sheet, cell by cell, within the limits.
    pub fn sheet(&mut self, name: &str) -> Result<Sheet, BookError> {
        if !self.xlsx.sheet_names().iter().any(|n| n == name) {
            return Err(BookError::Missing(name.to_string()));
        }
        let limits = self.limits;
        let unreadable = |e: calamine::XlsxError| BookError::Unreadable { sheet: name.to_string(), message: e.to_string() };
        let mut sheet = Sheet { name: name.to_string(), ..Sheet::default() };
        {
            let mut reader = self.xlsx.worksheet_cells_reader(name).map_err(unreadable)?;
            while let Some(cell) = reader.next_cell_with_formula().map_err(unreadable)? {
                let (r, c) = cell.pos;
                if r >= limits.rows || c >= limits.columns {
                    return Err(BookError::OutOfBounds {
                        sheet: name.to_string(),
                        cell: format!("{}{}", column_name(c), u64::from(r) + 1),
                        rows: limits.rows,
                        columns: limits.columns,
                    });
                }
                self.cells_read += 1;
                if self.cells_read > limits.cells {
                    return Err(BookError::Cells { sheet: name.to_string(), limit: limits.cells });
                }
                if let Some(f) = cell.formula.filter(|f| !f.is_empty()) {
                    sheet.formulas.push((r, c, f));
                }
                let value: Data = cell.value.into();
                if !matches!(value, Data::Empty) {
                    sheet.put(r, c, value);
                }
            }
        }
        // Merged areas are listed apart from the cells; only their corners are kept.
        sheet.merged = self.xlsx.merge_cells_by_sheet_name(name).map_err(unreadable)?.into_iter().map(|d| d.start).collect();
        Ok(sheet)
    }
}

impl Sheet {
    fn put(&mut self, r: u32, c: u32, value: Data) {
        let (r, c) = (r as usize, c as usize);
        if self.rows.len() <= r {
            self.rows.resize_with(r + 1, Vec::new);
        }
        let row = &mut self.rows[r];
        if row.len() <= c {
            row.resize(c + 1, Data::Empty);
        }
        row[c] = value;
    }

    /// The value at (row, column), 0-based; `None` where nothing was written.
    pub fn get(&self, r: u32, c: u32) -> Option<&Data> {
        self.rows.get(r as usize)?.get(c as usize).filter(|d| !matches!(d, Data::Empty))
    }

    /// The last row with a value, 0-based (0 for an empty sheet).
    pub fn last_row(&self) -> u32 {
        self.rows.len().saturating_sub(1) as u32
    }

    /// Every row from the first, each as far as its last value (empty rows empty).
    pub fn rows(&self) -> impl Iterator<Item = &[Data]> {
        self.rows.iter().map(Vec::as_slice)
    }

    /// The first row and the first column holding a value, 0-based.
    pub fn first_cell(&self) -> Option<(u32, u32)> {
        let first_row = self.rows.iter().position(|r| !r.is_empty())?;
        let first_col = self.rows.iter().filter_map(|r| r.iter().position(|d| !matches!(d, Data::Empty))).min()?;
        Some((first_row as u32, first_col as u32))
    }
}

/// Inflates every part into nothing, counting, before the parser sees the file.
fn check_zip(bytes: &[u8], limits: Limits) -> Result<(), BookError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| BookError::NotXlsx(e.to_string()))?;
    if zip.len() > limits.parts {
        return Err(BookError::Parts { count: zip.len(), limit: limits.parts });
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let part = zip.by_index(i).map_err(|e| BookError::NotXlsx(e.to_string()))?;
        let name = part.name().map(|n| n.to_string()).unwrap_or_else(|_| format!("#{i}"));
        let room = limits.unzipped_bytes - total;
        // One byte past the room tells "too large" from "exactly full".
        let read = std::io::copy(&mut part.take(room + 1), &mut std::io::sink()).map_err(|e| BookError::NotXlsx(format!("{name}: {e}")))?;
        if read > room {
            return Err(BookError::Unzipped { part: name, limit: limits.unzipped_bytes });
        }
        total += read;
    }
    Ok(())
}

/// `A`, `B`, … `Z`, `AA`… for a 0-based column.
pub fn column_name(c: u32) -> String {
    let mut c = u64::from(c) + 1;
    let mut s = String::new();
    while c > 0 {
        let r = ((c - 1) % 26) as u8;
        s.insert(0, char::from(b'A' + r));
        c = (c - 1) / 26;
    }
    s
}

/// One error of an uploaded workbook: where and what.
#[derive(Debug, Clone, PartialEq)]
pub struct CellError {
    pub sheet: String,
    /// 1-based, as Excel shows it; 0 for the whole sheet.
    pub row: u32,
    /// `A`, `B`…; empty for the whole row or sheet.
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.row, self.column.as_str()) {
            (0, _) => write!(f, "{}: {}", self.sheet, self.message),
            (r, "") => write!(f, "{}!{r}: {}", self.sheet, self.message),
            (r, c) => write!(f, "{}!{c}{r}: {}", self.sheet, self.message),
        }
    }
}

/// Workbook reads at once in this process: each may hold its limits' worth of memory.
const READS_AT_ONCE: usize = 2;

static READS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(READS_AT_ONCE);

/// Runs a workbook read of an upload on a blocking thread, at most `READS_AT_ONCE`
/// at a time. A read that panicked is logged and reported as an internal error
/// rather than losing the process.
pub async fn read_upload<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> Result<T, crate::AppError> {
    let _permit = READS.acquire().await.map_err(crate::AppError::internal)?;
    tokio::task::spawn_blocking(read).await.map_err(|e| {
        tracing::error!(error = %e, "reading an uploaded workbook failed");
        crate::AppError::internal("reading the workbook failed")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(8), "I");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16383), "XFD");
    }

    fn book(cells: &[(u32, u16)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet().set_name("S").unwrap();
        for &(r, c) in cells {
            sheet.write(r, c, 1.0).unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    const SMALL: Limits = Limits { unzipped_bytes: 1 << 20, parts: 16, sheets: 2, rows: 10, columns: 3, cells: 5 };

    #[test]
    fn a_sheet_within_bounds_is_read_sparsely() {
        let mut b = Book::open(&book(&[(0, 0), (9, 2)]), SMALL).unwrap();
        let s = b.sheet("S").unwrap();
        assert_eq!(s.get(9, 2), Some(&Data::Float(1.0)));
        assert_eq!(s.get(5, 1), None);
        assert_eq!(s.last_row(), 9);
        assert_eq!(s.first_cell(), Some((0, 0)));
        assert!(matches!(b.sheet("T"), Err(BookError::Missing(_))));
    }

    #[test]
    fn bounds_are_checked_before_allocating() {
        let far = Book::open(&book(&[(0, 0), (1_048_575, 16_383)]), SMALL).unwrap().sheet("S").unwrap_err();
        assert_eq!(far, BookError::OutOfBounds { sheet: "S".into(), cell: "XFD1048576".into(), rows: 10, columns: 3 });
        let wide = Book::open(&book(&[(0, 3)]), SMALL).unwrap().sheet("S").unwrap_err();
        assert!(matches!(wide, BookError::OutOfBounds { ref cell, .. } if cell == "D1"), "{wide}");
        let many = Book::open(&book(&[(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)]), SMALL).unwrap().sheet("S").unwrap_err();
        assert_eq!(many, BookError::Cells { sheet: "S".into(), limit: 5 });
        let tight = Limits { unzipped_bytes: 2_000, ..SMALL };
        assert!(matches!(Book::open(&book(&[(0, 0)]), tight), Err(BookError::Unzipped { limit: 2_000, .. })));
        let few_parts = Limits { parts: 3, ..SMALL };
        assert!(matches!(Book::open(&book(&[(0, 0)]), few_parts), Err(BookError::Parts { limit: 3, .. })));
        assert!(matches!(Book::open(b"PK\x03\x04 not a zip", SMALL), Err(BookError::NotXlsx(_))));
    }
}
