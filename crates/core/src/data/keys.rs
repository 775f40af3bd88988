//! Stable keys of records (记录编号): what makes importing a record twice replace it
//! instead of adding a copy.
//!
//! A record (积分记录) in a data file may carry a `key` (jixiao's optional extension of
//! spec §3: any text of 1–100 characters without control characters or surrounding
//! spaces). A record without one gets a key derived from what it says: the SHA-256 of
//! a canonical text of its unit, indicator, date, points and note, and of its
//! occurrence — the n-th key-less record of a file that says exactly the same as
//! earlier ones is occurrence n, so two identical events in one file stay two
//! records, and importing that file again finds both. The canonical text is JSON
//! (`serde_json`'s escaping) of fixed fields, the points written as the shortest
//! decimal that reads back as the same double, and no note the same as an empty
//! one: nothing in it depends on the platform, the process or a hash map's order.
//!
//! Within one file every key, given or derived, must be unique; a repeated key is a
//! bad row naming both positions. Storing records by key per year is the store's
//! business (`jixiao_store`'s `import_data`, `add_record`).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::{DataError, DataFile, EntryRow, RecordRow, RowError};

/// The longest key a file may give, in characters.
pub const MAX_KEY_CHARS: usize = 100;

/// Keys beginning with this are the store's placeholders while it upgrades records
/// stored before keys existed; a file may not give one.
pub const RESERVED_PREFIX: &str = "legacy:";

/// A record as a data file carries it: the row and the key it gives, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedRecord {
    pub key: Option<String>,
    pub row: RecordRow,
}

/// The data file with the keys of its records: what `jixiao data import` reads and
/// `jixiao data export` writes. `DataFile` is the same without keys (what scoring
/// reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyedDataFile {
    #[serde(default)]
    pub entries: Vec<EntryRow>,
    #[serde(default)]
    pub records: Vec<KeyedRecord>,
}

impl From<DataFile> for KeyedDataFile {
    fn from(file: DataFile) -> KeyedDataFile {
        KeyedDataFile { entries: file.entries, records: file.records.into_iter().map(|row| KeyedRecord { key: None, row }).collect() }
    }
}

impl KeyedDataFile {
    /// The rows without keys, and the keys in record order.
    pub fn into_parts(self) -> (DataFile, Vec<Option<String>>) {
        let (keys, records) = self.records.into_iter().map(|r| (r.key, r.row)).unzip();
        (DataFile { entries: self.entries, records }, keys)
    }

    /// A copy without keys, for scoring.
    pub fn unkeyed(&self) -> DataFile {
        DataFile { entries: self.entries.clone(), records: self.records.iter().map(|r| r.row.clone()).collect() }
    }

    /// Every record's key — given, or derived — or every bad row (see `assign_keys`).
    pub fn keys(&self) -> Result<Vec<String>, DataError> {
        assign_keys(self.records.iter().map(|r| (r.key.as_deref(), &r.row)))
    }

    /// What of this file `stored` (a year's accepted entries and records, as exported)
    /// does not already hold as it is: the changed entries and the changed records —
    /// these under their keys, so that leaving the unchanged ones out cannot renumber a
    /// key-less record's occurrence — each with its position in this file. Importing
    /// an export again is then no change at all.
    pub fn changes_from(&self, stored: &KeyedDataFile) -> Result<Changes, DataError> {
        let stored_entries: std::collections::HashMap<(&str, &str, &str), &EntryRow> =
            stored.entries.iter().map(|e| ((e.unit.as_str(), e.indicator.as_str(), e.month.as_str()), e)).collect();
        let stored_keys = stored.keys()?;
        let stored_records: std::collections::HashMap<&str, &RecordRow> =
            stored_keys.iter().map(String::as_str).zip(stored.records.iter().map(|r| &r.row)).collect();
        let mut changes = Changes::default();
        for (i, e) in self.entries.iter().enumerate() {
            let same = stored_entries
                .get(&(e.unit.as_str(), e.indicator.as_str(), e.month.as_str()))
                .is_some_and(|s| same_values(&s.values, &e.values));
            if same {
                changes.unchanged += 1;
            } else {
                changes.entries.push((i, e.clone()));
            }
        }
        for (i, (key, r)) in self.keys()?.into_iter().zip(&self.records).enumerate() {
            if stored_records.get(key.as_str()).is_some_and(|s| canonical_text(s, 0) == canonical_text(&r.row, 0)) {
                changes.unchanged += 1;
            } else {
                changes.records.push((i, KeyedRecord { key: Some(key), row: r.row.clone() }));
            }
        }
        Ok(changes)
    }
}

/// The rows of a data file that change what is stored (`KeyedDataFile::changes_from`),
/// each with its position in the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub entries: Vec<(usize, EntryRow)>,
    pub records: Vec<(usize, KeyedRecord)>,
    /// Rows already stored as they are.
    pub unchanged: usize,
}

impl Changes {
    /// The changed rows as a file of their own.
    pub fn file(&self) -> KeyedDataFile {
        KeyedDataFile {
            entries: self.entries.iter().map(|(_, e)| e.clone()).collect(),
            records: self.records.iter().map(|(_, r)| r.clone()).collect(),
        }
    }
}

/// Whether two entries' values say the same: the same fields, numbers equal as
/// numbers (a stored `2.0` is the file's `2`).
fn same_values(a: &serde_json::Map<String, serde_json::Value>, b: &serde_json::Map<String, serde_json::Value>) -> bool {
    a.len() == b.len()
        && a.iter().all(|(k, x)| {
            b.get(k).is_some_and(|y| match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y,
                _ => x == y,
            })
        })
}

/// The record as written in the file: the row's own keys, then `key`. A struct of its
/// own because `#[serde(flatten)]` cannot refuse unknown keys.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordText {
    unit: String,
    indicator: String,
    date: String,
    #[serde(default)]
    points: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl Serialize for KeyedRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = &self.row;
        RecordText {
            unit: r.unit.clone(),
            indicator: r.indicator.clone(),
            date: r.date.clone(),
            points: r.points,
            note: r.note.clone(),
            key: self.key.clone(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for KeyedRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeyedRecord, D::Error> {
        let t = RecordText::deserialize(deserializer)?;
        if let Some(key) = &t.key {
            check_key(key).map_err(D::Error::custom)?;
        }
        Ok(KeyedRecord {
            key: t.key,
            row: RecordRow { unit: t.unit, indicator: t.indicator, date: t.date, points: t.points, note: t.note },
        })
    }
}

/// Whether `key` may be given in a file; the reason if not.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("a record's key may not be empty (leave it out to have one derived)".into());
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(format!("a record's key has at most {MAX_KEY_CHARS} characters"));
    }
    if key.chars().any(char::is_control) {
        return Err("a record's key may not contain control characters".into());
    }
    if key.trim() != key {
        return Err(format!("a record's key may not begin or end with spaces: `{key}`"));
    }
    if key.starts_with(RESERVED_PREFIX) {
        return Err(format!("a record's key may not begin with `{RESERVED_PREFIX}` (reserved for records stored before keys existed)"));
    }
    Ok(())
}

/// The canonical text a derived key is the hash of (see the module documentation).
pub fn canonical_text(row: &RecordRow, occurrence: u32) -> String {
    // -0 and 0 are the same points; Rust writes floats as the shortest decimal that
    // reads back as the same double, the same on every platform.
    let points = format!("{}", row.points + 0.0);
    serde_json::json!(["jixiao record", row.unit, row.indicator, row.date, points, row.note.as_deref().unwrap_or(""), occurrence])
        .to_string()
}

/// The key of a key-less record: 32 hexadecimal digits of the SHA-256 of its canonical
/// text. `occurrence` counts from 1 (see the module documentation).
pub fn derived_key(row: &RecordRow, occurrence: u32) -> String {
    let digest = Sha256::digest(canonical_text(row, occurrence).as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The keys of a file's records, in order: a given key as it is, else the derived
/// one with its occurrence. Every problem — a bad given key, a key that repeats — is a
/// bad row `records[i]`.
pub fn assign_keys<'a>(records: impl IntoIterator<Item = (Option<&'a str>, &'a RecordRow)>) -> Result<Vec<String>, DataError> {
    let mut keys = Vec::new();
    let mut errors = Vec::new();
    // Occurrences so far of each key-less record's canonical text.
    let mut seen_text: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut first_at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, (given, row)) in records.into_iter().enumerate() {
        let key = match given {
            Some(key) => {
                if let Err(message) = check_key(key) {
                    errors.push(RowError { location: format!("records[{i}]"), message });
                }
                key.to_string()
            }
            None => {
                let n = seen_text.entry(canonical_text(row, 0)).or_insert(0);
                *n += 1;
                derived_key(row, *n)
            }
        };
        if let Some(first) = first_at.get(&key) {
            errors.push(RowError {
                location: format!("records[{i}]"),
                message: format!("key `{key}` repeats records[{first}]'s: a key names one record"),
            });
        } else {
            first_at.insert(key.clone(), i);
        }
        keys.push(key);
    }
    if errors.is_empty() { Ok(keys) } else { Err(DataError { rows: errors }) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(unit: &str, date: &str, points: f64, note: Option<&str>) -> RecordRow {
        RecordRow { unit: unit.into(), indicator: "X1".into(), date: date.into(), points, note: note.map(Into::into) }
    }

    #[test]
    fn the_canonical_text_is_fixed() {
        // These exact strings and digests are part of the data format: a change here
        // gives every stored record a new key, and re-imports would add copies.
        assert_eq!(
            canonical_text(&row("u01", "2027-02-10", 2.0, Some("省级表彰")), 1),
            r#"["jixiao record","u01","X1","2027-02-10","2","省级表彰",1]"#
        );
        assert_eq!(canonical_text(&row("u01", "2027-02-10", -0.0, None), 2), r#"["jixiao record","u01","X1","2027-02-10","0","",2]"#);
        assert_eq!(
            canonical_text(&row("s01", "2027-03-01", 0.1 + 0.2, Some("a\"b\n")), 1).split(',').nth(4),
            Some(r#""0.30000000000000004""#)
        );
        // SHA-256 of the first text above, computed independently
        // (printf '%s' '["jixiao record","u01","X1","2027-02-10","2","省级表彰",1]' | sha256sum).
        assert_eq!(derived_key(&row("u01", "2027-02-10", 2.0, Some("省级表彰")), 1), "0e874f152e19965e0947c0fe79252a6e");
    }

    #[test]
    fn what_a_record_says_decides_its_key() {
        let base = row("u01", "2027-02-10", 2.0, Some("省级表彰"));
        let key = derived_key(&base, 1);
        assert_eq!(key.len(), 32);
        assert_eq!(derived_key(&row("u01", "2027-02-10", 2.0, Some("省级表彰")), 1), key, "same record, same key");
        assert_eq!(derived_key(&row("u01", "2027-02-10", 2.0, None), 1), derived_key(&row("u01", "2027-02-10", 2.0, Some("")), 1));
        for other in [
            row("u02", "2027-02-10", 2.0, Some("省级表彰")),
            row("u01", "2027-02-11", 2.0, Some("省级表彰")),
            row("u01", "2027-02-10", 2.5, Some("省级表彰")),
            row("u01", "2027-02-10", 2.0, Some("市级表彰")),
            RecordRow { indicator: "X2".into(), ..base.clone() },
        ] {
            assert_ne!(derived_key(&other, 1), key, "{other:?}");
        }
        assert_ne!(derived_key(&base, 2), key, "the second occurrence is another record");
        // A note cannot pose as another field or occurrence.
        assert_ne!(
            derived_key(&row("u01", "2027-02-10", 2.0, Some("x\",2")), 1),
            derived_key(&row("u01", "2027-02-10", 2.0, Some("x")), 2)
        );
    }

    #[test]
    fn identical_key_less_records_count_occurrences_and_given_keys_must_not_repeat() {
        let a = row("u01", "2027-02-10", 0.5, None);
        let b = row("u02", "2027-02-10", 0.5, None);
        let keys = assign_keys([(None, &a), (None, &b), (None, &a), (Some("mine"), &a)]).unwrap();
        assert_eq!(keys, vec![derived_key(&a, 1), derived_key(&b, 1), derived_key(&a, 2), "mine".to_string()]);

        let err = assign_keys([(Some("k1"), &a), (None, &b), (Some("k1"), &b), (Some(" k2"), &b)]).unwrap_err();
        let rows: Vec<String> = err.rows.iter().map(ToString::to_string).collect();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows[0].starts_with("records[2]: key `k1` repeats records[0]'s"), "{rows:?}");
        assert!(rows[1].starts_with("records[3]: a record's key may not begin or end with spaces"), "{rows:?}");
        // A given key that happens to be a derived one repeats it as well.
        let err = assign_keys([(None, &a), (Some(derived_key(&a, 1).as_str()), &b)]).unwrap_err();
        assert_eq!(err.rows[0].location, "records[1]");
    }

    #[test]
    fn keys_are_read_and_written_beside_the_record() {
        let text = json!({"records": [
            {"unit": "u01", "indicator": "X1", "date": "2027-02-10", "points": 2, "note": "省级表彰", "key": "award-1"},
            {"unit": "u01", "indicator": "X1", "date": "2027-03-10"}
        ]})
        .to_string();
        let file: KeyedDataFile = serde_json::from_str(&text).unwrap();
        assert_eq!(file.records[0].key.as_deref(), Some("award-1"));
        assert_eq!(file.records[1], KeyedRecord { key: None, row: row("u01", "2027-03-10", 0.0, None) });
        let again: KeyedDataFile = serde_json::from_str(&serde_json::to_string(&file).unwrap()).unwrap();
        assert_eq!(again, file);
        assert_eq!(
            serde_json::to_value(&file.records[1]).unwrap(),
            json!({"unit": "u01", "indicator": "X1", "date": "2027-03-10", "points": 0.0})
        );

        for (bad, needle) in [
            (json!({"unit": "u01", "indicator": "X1", "date": "2027-02-10", "kye": "x"}), "unknown field `kye`"),
            (json!({"unit": "u01", "indicator": "X1", "date": "2027-02-10", "key": ""}), "may not be empty"),
            (json!({"unit": "u01", "indicator": "X1", "date": "2027-02-10", "key": "a\tb"}), "control characters"),
            (json!({"unit": "u01", "indicator": "X1", "date": "2027-02-10", "key": "k".repeat(101)}), "at most 100"),
            (json!({"unit": "u01", "indicator": "X1", "date": "2027-02-10", "key": "legacy:7"}), "reserved"),
        ] {
            let err = serde_json::from_value::<KeyedDataFile>(json!({"records": [bad]})).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn only_what_differs_from_the_stored_data_is_a_change() {
        let entry = |unit: &str, value: serde_json::Value| EntryRow {
            unit: unit.into(),
            indicator: "A1".into(),
            month: "2027-02".into(),
            values: json!({"value": value}).as_object().unwrap().clone(),
        };
        let a = row("u01", "2027-02-10", 0.5, None);
        let b = row("u02", "2027-02-10", 1.0, Some("note"));
        // Stored: u01's entry 2.0, two occurrences of `a`, and `b` under a given key.
        let stored = KeyedDataFile {
            entries: vec![entry("u01", json!(2.0)), entry("u02", json!(5))],
            records: vec![
                KeyedRecord { key: Some(derived_key(&a, 1)), row: a.clone() },
                KeyedRecord { key: Some(derived_key(&a, 2)), row: a.clone() },
                KeyedRecord { key: Some("award-7".into()), row: b.clone() },
            ],
        };
        let file = KeyedDataFile {
            // 2 is the stored 2.0; u02's 6 differs; u03's is new.
            entries: vec![entry("u01", json!(2)), entry("u02", json!(6)), entry("u03", json!(1))],
            records: vec![
                KeyedRecord { key: None, row: a.clone() },
                KeyedRecord { key: None, row: a.clone() },
                // The third occurrence is a new record, kept under its own key.
                KeyedRecord { key: None, row: a.clone() },
                KeyedRecord { key: Some("award-7".into()), row: RecordRow { points: 1.5, ..b.clone() } },
            ],
        };
        let changes = file.changes_from(&stored).unwrap();
        assert_eq!(changes.unchanged, 3);
        assert_eq!(changes.entries.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(
            changes.records,
            vec![
                (2, KeyedRecord { key: Some(derived_key(&a, 3)), row: a.clone() }),
                (3, KeyedRecord { key: Some("award-7".into()), row: RecordRow { points: 1.5, ..b } }),
            ]
        );
        assert_eq!(stored.changes_from(&stored).unwrap().file(), KeyedDataFile::default(), "an export imported again changes nothing");
    }
}
