//! Reported data (spec §3): monthly entries (填报数据) and dated records (积分记录),
//! validated against a scheme into a `Dataset` the engine reads.
//!
//! A data file with any bad row loads nothing: `Dataset::load` returns every bad
//! row with its position and reason. Values are kept densely per indicator, unit
//! and month, with NaN for "not reported", because a province has millions of
//! them and the engine reads them in tight loops.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::period::Month;
use crate::scheme::{FieldType, Scheme, Source};

mod keys;

pub use keys::{Changes, KeyedDataFile, KeyedRecord, MAX_KEY_CHARS, RESERVED_PREFIX, assign_keys, canonical_text, check_key, derived_key};

/// The data file as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataFile {
    #[serde(default)]
    pub entries: Vec<EntryRow>,
    #[serde(default)]
    pub records: Vec<RecordRow>,
}

/// One unit's report for one indicator and month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRow {
    pub unit: String,
    pub indicator: String,
    pub month: String,
    pub values: serde_json::Map<String, serde_json::Value>,
}

/// A dated event with points: an award, a violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRow {
    pub unit: String,
    pub indicator: String,
    pub date: String,
    #[serde(default)]
    pub points: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A bad row: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// `entries[3]` or `records[0]` (0-based, as in the file), or a JSON position.
    pub location: String,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every bad row of a data file; nothing of it was loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DataError {
    pub rows: Vec<RowError>,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.rows.len();
        write!(f, "invalid data ({n} bad row{}), nothing loaded:", if n == 1 { "" } else { "s" })?;
        for row in &self.rows {
            write!(f, "\n  {row}")?;
        }
        Ok(())
    }
}

/// A validated entry: indices into the scheme, values in field order (NaN = not carried).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub unit: usize,
    /// Node index of the indicator.
    pub indicator: usize,
    /// 1–12.
    pub month: u8,
    pub values: Vec<f64>,
}

/// A validated record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub unit: usize,
    pub indicator: usize,
    pub date: NaiveDate,
    pub points: f64,
    pub note: Option<String>,
}

impl Record {
    pub fn month(&self) -> u8 {
        self.date.month() as u8
    }
}

/// All data of one scheme year, laid out for scoring.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Per node index: the indicator's values, `[unit][month 0..12][field]`, NaN = absent.
    values: Vec<Vec<f64>>,
    /// Per node index: the number of fields.
    widths: Vec<usize>,
    units: usize,
    /// Per node index, per unit: records in file order.
    records: Vec<Vec<Vec<Record>>>,
}

impl Dataset {
    /// An empty dataset for a scheme.
    pub fn new(scheme: &Scheme) -> Dataset {
        let units = scheme.units.len();
        let widths: Vec<usize> = scheme.nodes.iter().map(|n| n.indicator.as_ref().map_or(0, |i| i.fields.len())).collect();
        Dataset {
            values: widths.iter().map(|_| Vec::new()).collect(),
            widths,
            units,
            records: scheme.nodes.iter().map(|_| Vec::new()).collect(),
        }
    }

    /// Parses and validates a data file's text against a scheme. Its records may carry
    /// keys (`keys`); a bad or repeated key is a bad row like any other.
    pub fn from_json(scheme: &Scheme, text: &str) -> Result<Dataset, DataError> {
        let file: KeyedDataFile = serde_json::from_str(text).map_err(|e| DataError {
            rows: vec![RowError {
                location: format!("line {}, column {}", e.line(), e.column()),
                message: format!("not a valid data file: {e}"),
            }],
        })?;
        let key_errors = file.keys().err().map(|e| e.rows).unwrap_or_default();
        let (file, _) = file.into_parts();
        match (Dataset::load(scheme, &file), key_errors.is_empty()) {
            (Ok(data), true) => Ok(data),
            (Ok(_), false) => Err(DataError { rows: key_errors }),
            (Err(mut e), _) => {
                e.rows.extend(key_errors);
                Err(e)
            }
        }
    }

    /// Validates every row; loads all of them or none.
    pub fn load(scheme: &Scheme, file: &DataFile) -> Result<Dataset, DataError> {
        let mut errors = Vec::new();
        let mut data = Dataset::new(scheme);
        // Row index of the entry seen for each (indicator, unit, month), +1; 0 = none.
        let mut seen: Vec<Vec<u32>> = vec![Vec::new(); scheme.nodes.len()];
        for (i, row) in file.entries.iter().enumerate() {
            match validate_entry(scheme, row) {
                Ok(entry) => {
                    let slots = &mut seen[entry.indicator];
                    if slots.is_empty() {
                        *slots = vec![0; data.units * 12];
                    }
                    let slot = &mut slots[entry.unit * 12 + usize::from(entry.month - 1)];
                    if *slot > 0 {
                        errors.push(RowError {
                            location: format!("entries[{i}]"),
                            message: format!(
                                "duplicate entry: entries[{}] already reports {} for {} in {}",
                                *slot - 1,
                                row.indicator,
                                row.unit,
                                row.month
                            ),
                        });
                    } else {
                        *slot = u32::try_from(i + 1).unwrap_or(u32::MAX);
                        data.set_entry(&entry);
                    }
                }
                Err(message) => errors.push(RowError { location: format!("entries[{i}]"), message }),
            }
        }
        for (i, row) in file.records.iter().enumerate() {
            match validate_record(scheme, row) {
                Ok(record) => data.push_record(record),
                Err(message) => errors.push(RowError { location: format!("records[{i}]"), message }),
            }
        }
        if errors.is_empty() { Ok(data) } else { Err(DataError { rows: errors }) }
    }

    /// The values a unit reported for an indicator in a month (1–12), NaN where absent;
    /// empty if nothing was reported for that indicator at all.
    pub fn entry_values(&self, indicator: usize, unit: usize, month: u8) -> &[f64] {
        let w = self.widths[indicator];
        let all = &self.values[indicator];
        if all.is_empty() || w == 0 {
            return &[];
        }
        let start = (unit * 12 + usize::from(month - 1)) * w;
        &all[start..start + w]
    }

    /// One field's value, if reported.
    #[inline]
    pub fn value(&self, indicator: usize, unit: usize, month: u8, field: usize) -> Option<f64> {
        let all = &self.values[indicator];
        if all.is_empty() {
            return None;
        }
        let v = all[(unit * 12 + usize::from(month - 1)) * self.widths[indicator] + field];
        (!v.is_nan()).then_some(v)
    }

    /// Records of a unit for an indicator, in file order.
    pub fn records(&self, indicator: usize, unit: usize) -> &[Record] {
        self.records[indicator].get(unit).map_or(&[], Vec::as_slice)
    }

    /// Stores (or replaces) an entry. The entry must have been validated against
    /// the same scheme.
    pub fn set_entry(&mut self, entry: &Entry) {
        let w = self.widths[entry.indicator];
        if w == 0 {
            return;
        }
        let all = &mut self.values[entry.indicator];
        if all.is_empty() {
            *all = vec![f64::NAN; self.units * 12 * w];
        }
        let start = (entry.unit * 12 + usize::from(entry.month - 1)) * w;
        all[start..start + w].copy_from_slice(&entry.values);
    }

    /// Removes a unit's entry for an indicator and month.
    pub fn remove_entry(&mut self, indicator: usize, unit: usize, month: u8) {
        let w = self.widths[indicator];
        let all = &mut self.values[indicator];
        if !all.is_empty() && w > 0 {
            let start = (unit * 12 + usize::from(month - 1)) * w;
            all[start..start + w].fill(f64::NAN);
        }
    }

    /// Appends a validated record after the unit's existing ones.
    pub fn push_record(&mut self, record: Record) {
        let per_unit = &mut self.records[record.indicator];
        if per_unit.is_empty() {
            per_unit.resize_with(self.units, Vec::new);
        }
        per_unit[record.unit].push(record);
    }

    /// Removes the `position`-th record of a unit for an indicator.
    pub fn remove_record(&mut self, indicator: usize, unit: usize, position: usize) -> Option<Record> {
        let list = self.records[indicator].get_mut(unit)?;
        (position < list.len()).then(|| list.remove(position))
    }

    /// One pass over every stored value and record that only sums them: the
    /// floor the scoring benchmark compares the engine against. Returns the
    /// number of values and records and their sum.
    pub fn sum_values(&self) -> (usize, f64) {
        let mut count = 0;
        let mut sum = 0.0;
        for v in self.values.iter().flatten() {
            if !v.is_nan() {
                sum += v;
                count += 1;
            }
        }
        for r in self.records.iter().flatten().flatten() {
            sum += r.points;
            count += 1;
        }
        (count, sum)
    }

    /// How many values are stored (reported), over all indicators.
    pub fn value_count(&self) -> usize {
        self.values.iter().map(|v| v.iter().filter(|x| !x.is_nan()).count()).sum()
    }

    /// Bytes held by the dense value arrays and records.
    pub fn heap_bytes(&self) -> usize {
        self.values.iter().map(|v| v.capacity() * 8).sum::<usize>()
            + self.records.iter().flatten().map(|r| r.capacity() * std::mem::size_of::<Record>()).sum::<usize>()
    }
}

/// Checks one entry row against the scheme.
pub fn validate_entry(scheme: &Scheme, row: &EntryRow) -> Result<Entry, String> {
    let unit = scheme.unit_index(&row.unit).ok_or_else(|| format!("unknown unit `{}`", row.unit))?;
    let node = scheme.node_index(&row.indicator).ok_or_else(|| format!("unknown indicator `{}`", row.indicator))?;
    let indicator = scheme.indicator(node).ok_or_else(|| format!("`{}` is a category; data is reported for indicators", row.indicator))?;
    if indicator.source == Source::Records {
        return Err(format!("indicator `{}` counts records; it takes no entries", row.indicator));
    }
    let month: Month = row.month.parse().map_err(|e| format!("month: {e}"))?;
    if month.year != scheme.year {
        return Err(format!("month {} is outside the scheme's year {}", row.month, scheme.year));
    }
    let mut values = vec![f64::NAN; indicator.fields.len()];
    for (key, value) in &row.values {
        let f = indicator.field_index(key).ok_or_else(|| format!("indicator `{}` has no field `{key}`", row.indicator))?;
        values[f] = field_value(&indicator.fields[f], value)?;
    }
    Ok(Entry { unit, indicator: node, month: month.month, values })
}

/// Checks one value against its field's type and bounds; the number it stands for.
pub fn field_value(field: &crate::scheme::FieldDef, value: &serde_json::Value) -> Result<f64, String> {
    let key = &field.key;
    let x = match (field.field_type, value) {
        (FieldType::Boolean, serde_json::Value::Bool(b)) => f64::from(u8::from(*b)),
        (FieldType::Boolean, v) => match v.as_f64() {
            Some(x) if x == 0.0 || x == 1.0 => x,
            _ => return Err(format!("field `{key}` is a boolean: write true or false (or 1 or 0), not {v}")),
        },
        (t, v) => {
            let x = v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| format!("field `{key}` must be a number, not {v}"))?;
            if t == FieldType::Integer && x.fract() != 0.0 {
                return Err(format!("field `{key}` must be a whole number, not {v}"));
            }
            x
        }
    };
    if let Some(min) = field.min.filter(|&m| x < m) {
        return Err(format!("field `{key}` = {x} is below its minimum {min}"));
    }
    if let Some(max) = field.max.filter(|&m| x > m) {
        return Err(format!("field `{key}` = {x} is above its maximum {max}"));
    }
    Ok(x)
}

/// Checks one record row against the scheme.
pub fn validate_record(scheme: &Scheme, row: &RecordRow) -> Result<Record, String> {
    let unit = scheme.unit_index(&row.unit).ok_or_else(|| format!("unknown unit `{}`", row.unit))?;
    let node = scheme.node_index(&row.indicator).ok_or_else(|| format!("unknown indicator `{}`", row.indicator))?;
    let indicator = scheme.indicator(node).ok_or_else(|| format!("`{}` is a category; records belong to indicators", row.indicator))?;
    if indicator.source != Source::Records {
        return Err(format!("indicator `{}` takes entries, not records (its source is fields)", row.indicator));
    }
    let date =
        NaiveDate::parse_from_str(&row.date, "%Y-%m-%d").map_err(|_| format!("date `{}` is not a date like 2027-02-10", row.date))?;
    if date.year() != scheme.year {
        return Err(format!("date {} is outside the scheme's year {}", row.date, scheme.year));
    }
    if !row.points.is_finite() {
        return Err("points must be a number".into());
    }
    Ok(Record { unit, indicator: node, date, points: row.points, note: row.note.clone() })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn scheme() -> Scheme {
        let mut v = crate::scheme::tests::spec_example();
        v["tree"][0]["children"][1]["fields"] = json!([
            {"key": "x", "min": 0, "max": 100},
            {"key": "n", "type": "integer"},
            {"key": "ok", "type": "boolean"}
        ]);
        Scheme::from_json(&v.to_string()).unwrap()
    }

    fn load(v: Value) -> Result<Dataset, DataError> {
        Dataset::from_json(&scheme(), &v.to_string())
    }

    fn entry(unit: &str, indicator: &str, month: &str, values: Value) -> Value {
        json!({"unit": unit, "indicator": indicator, "month": month, "values": values})
    }

    /// The file is rejected with exactly one bad row at `location` mentioning `needle`.
    fn rejects(v: Value, location: &str, needle: &str) {
        let err = load(v).expect_err("should be rejected");
        assert_eq!(err.rows.len(), 1, "{err}");
        assert_eq!(err.rows[0].location, location, "{err}");
        assert!(err.rows[0].message.contains(needle), "expected `{needle}` in {err}");
    }

    #[test]
    fn valid_rows_load() {
        let d = load(json!({
            "entries": [entry("u01", "A2", "2027-01", json!({"x": 5, "n": 3.0, "ok": true})),
                        entry("u01", "A2", "2027-02", json!({"x": 7}))],
            "records": [{"unit": "u01", "indicator": "X1", "date": "2027-02-10", "points": 2, "note": "省级表彰"},
                        {"unit": "s01", "indicator": "X1", "date": "2027-12-31"}]
        }))
        .unwrap();
        let s = scheme();
        let (a2, u01) = (s.node_index("A2").unwrap(), s.unit_index("u01").unwrap());
        assert_eq!(d.value(a2, u01, 1, 0), Some(5.0));
        assert_eq!(d.value(a2, u01, 1, 2), Some(1.0), "true is stored as 1");
        assert_eq!(d.value(a2, u01, 2, 1), None, "an entry may carry only some fields");
        assert_eq!(d.records(s.node_index("X1").unwrap(), u01).len(), 1);
        assert_eq!(d.sum_values(), (6, 5.0 + 3.0 + 1.0 + 7.0 + 2.0 + 0.0));
    }

    #[test]
    fn rows_for_unassigned_units_are_valid() {
        // s01 is not assigned A2; its report is kept and ignored in scoring.
        load(json!({"entries": [entry("s01", "A2", "2027-01", json!({"x": 1}))]})).unwrap();
    }

    #[test]
    fn each_kind_of_bad_row_is_named() {
        rejects(json!({"entries": [entry("u99", "A2", "2027-01", json!({}))]}), "entries[0]", "unknown unit `u99`");
        rejects(json!({"entries": [entry("u01", "Z9", "2027-01", json!({}))]}), "entries[0]", "unknown indicator `Z9`");
        rejects(json!({"entries": [entry("u01", "A", "2027-01", json!({}))]}), "entries[0]", "is a category");
        rejects(json!({"entries": [entry("u01", "X1", "2027-01", json!({}))]}), "entries[0]", "counts records");
        rejects(json!({"entries": [entry("u01", "A2", "2027-01", json!({"y": 1}))]}), "entries[0]", "has no field `y`");
        rejects(json!({"entries": [entry("u01", "A2", "2027-01", json!({"x": "5"}))]}), "entries[0]", "must be a number");
        rejects(json!({"entries": [entry("u01", "A2", "2027-01", json!({"x": null}))]}), "entries[0]", "must be a number");
        rejects(json!({"entries": [entry("u01", "A2", "2027-01", json!({"x": 101}))]}), "entries[0]", "above its maximum 100");
        rejects(json!({"entries": [entry("u01", "A2", "2027-01", json!({"x": -1}))]}), "entries[0]", "below its minimum 0");
        rejects(json!({"entries": [entry("u01", "A2", "2027-01", json!({"n": 2.5}))]}), "entries[0]", "whole number");
        rejects(json!({"entries": [entry("u01", "A2", "2027-01", json!({"ok": 2}))]}), "entries[0]", "is a boolean");
        rejects(json!({"entries": [entry("u01", "A2", "2026-12", json!({}))]}), "entries[0]", "outside the scheme's year 2027");
        rejects(json!({"entries": [entry("u01", "A2", "2027-13", json!({}))]}), "entries[0]", "not a period");
        rejects(json!({"records": [{"unit": "u01", "indicator": "A2", "date": "2027-01-01"}]}), "records[0]", "takes entries, not records");
        rejects(json!({"records": [{"unit": "u01", "indicator": "X1", "date": "2027-02-30"}]}), "records[0]", "is not a date");
        rejects(json!({"records": [{"unit": "u01", "indicator": "X1", "date": "2028-01-01"}]}), "records[0]", "outside the scheme's year");
    }

    #[test]
    fn duplicate_entries_name_the_first() {
        rejects(
            json!({"entries": [entry("u01", "A2", "2027-01", json!({"x": 1})), entry("u02", "A2", "2027-01", json!({"x": 1})),
                               entry("u01", "A2", "2027-01", json!({"x": 2}))]}),
            "entries[2]",
            "entries[0] already reports A2 for u01 in 2027-01",
        );
    }

    #[test]
    fn every_bad_row_is_listed_and_nothing_loads() {
        let err = load(json!({
            "entries": [entry("u99", "A2", "2027-01", json!({})), entry("u01", "A2", "2027-01", json!({"x": 1})),
                        entry("u01", "A2", "2027-02", json!({"x": 500}))],
            "records": [{"unit": "u01", "indicator": "X1", "date": "yesterday"}]
        }))
        .unwrap_err();
        let locations: Vec<&str> = err.rows.iter().map(|r| r.location.as_str()).collect();
        assert_eq!(locations, ["entries[0]", "entries[2]", "records[0]"]);
    }

    #[test]
    fn records_may_carry_keys_that_do_not_repeat() {
        let award = |key: &str| json!({"unit": "u01", "indicator": "X1", "date": "2027-02-10", "points": 2, "key": key});
        let d = load(json!({"records": [award("a"), award("b")]})).unwrap();
        assert_eq!(d.records(scheme().node_index("X1").unwrap(), scheme().unit_index("u01").unwrap()).len(), 2);
        rejects(json!({"records": [award("a"), award("a")]}), "records[1]", "key `a` repeats records[0]'s");
        // A bad row and a repeated key are both listed.
        let err = load(json!({"entries": [entry("u99", "A2", "2027-01", json!({}))], "records": [award("a"), award("a")]})).unwrap_err();
        assert_eq!(err.rows.iter().map(|r| r.location.as_str()).collect::<Vec<_>>(), ["entries[0]", "records[1]"]);
    }

    #[test]
    fn malformed_files_name_the_position() {
        let err = Dataset::from_json(&scheme(), "{\"entries\": [{\"unit\": 1}]}").unwrap_err();
        assert!(err.rows[0].location.starts_with("line 1, column"), "{err}");
        let err = Dataset::from_json(&scheme(), "{\"entrys\": []}").unwrap_err();
        assert!(err.rows[0].message.contains("entrys"), "{err}");
    }
}
