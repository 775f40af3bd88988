//! Audit archives (等保 审计记录保存): the entries of a range, with their MACs, as a
//! file that can be checked offline with the key file alone (`check_archive`). An
//! archive is a copy; nothing is deleted from the log.
//!
//! Format: JSON lines. The first line is the header —
//! `{"format": "jixiao-audit-archive/1", "first_seq", "last_seq", "entries",
//! "prev_hash", "last_hash", "exported_at", "mac"}` — where `prev_hash` is the link of
//! the first entry, `last_hash` the MAC of the last, and `mac` the HMAC-SM3 under the
//! audit key of the other fields (`header_text`), so a shortened or relabelled
//! archive is found. Then one line per entry, in seq order, with every column.

use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, EntryCheck};
use crate::keys::{Keys, hmac_sm3};

const FORMAT: &str = "jixiao-audit-archive/1";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    format: String,
    first_seq: i64,
    last_seq: i64,
    entries: u64,
    prev_hash: String,
    last_hash: String,
    exported_at: String,
    mac: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Line {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    object_type: String,
    object_id: String,
    before_json: Option<String>,
    after_json: Option<String>,
    prev_hash: String,
    hash: String,
    algorithm: String,
}

fn header_text(h: &Header) -> String {
    format!("{}\n{}\n{}\n{}\n{}\n{}\n{}", h.format, h.first_seq, h.last_seq, h.entries, h.prev_hash, h.last_hash, h.exported_at)
}

/// The archive of `entries` (consecutive, in seq order), made at `exported_at`.
pub fn write_archive(entries: &[AuditEntry], keys: &Keys, exported_at: &str) -> String {
    let mut header = Header {
        format: FORMAT.to_string(),
        first_seq: entries.first().map_or(0, |e| e.seq),
        last_seq: entries.last().map_or(0, |e| e.seq),
        entries: entries.len() as u64,
        prev_hash: entries.first().map_or_else(String::new, |e| e.prev_hash.clone()),
        last_hash: entries.last().map_or_else(String::new, |e| e.hash.clone()),
        exported_at: exported_at.to_string(),
        mac: String::new(),
    };
    header.mac = hex::encode(hmac_sm3(keys.audit(), header_text(&header).as_bytes()));
    let mut out = serde_json::to_string(&header).unwrap_or_default();
    out.push('\n');
    for e in entries {
        let line = Line {
            seq: e.seq,
            at: e.at.clone(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            object_type: e.object_type.clone(),
            object_id: e.object_id.clone(),
            before_json: e.before_json.clone(),
            after_json: e.after_json.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
            algorithm: e.algorithm.clone(),
        };
        out.push_str(&serde_json::to_string(&line).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Checks an archive with the key file's keys: its header's MAC, every entry's MAC
/// and link, the numbering, the count and the last MAC. The number of entries, or
/// what is wrong (naming the first bad line).
pub fn check_archive(text: &str, keys: &Keys) -> std::result::Result<u64, String> {
    let mut lines = text.lines();
    let header: Header =
        serde_json::from_str(lines.next().unwrap_or_default()).map_err(|_| "line 1 is not an archive header".to_string())?;
    if header.format != FORMAT {
        return Err(format!("line 1: unknown format `{}`", header.format));
    }
    let expected = hex::encode(hmac_sm3(keys.audit(), header_text(&header).as_bytes()));
    if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), header.mac.as_bytes())) {
        return Err("line 1: the header does not match its MAC (changed, or another key file)".to_string());
    }
    let mut count = 0u64;
    let mut prev = header.prev_hash.clone();
    let mut seq = header.first_seq;
    for (i, text) in lines.enumerate() {
        let n = i + 2;
        if text.is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(text).map_err(|_| format!("line {n} is not an entry"))?;
        let entry = AuditEntry {
            seq: line.seq,
            at: line.at,
            actor: line.actor,
            action: line.action,
            object_type: line.object_type,
            object_id: line.object_id,
            before_json: line.before_json,
            after_json: line.after_json,
            prev_hash: line.prev_hash,
            hash: line.hash,
            algorithm: line.algorithm,
        };
        if entry.seq != seq {
            return Err(format!("line {n}: entry {} should be numbered {seq}", entry.seq));
        }
        if entry.check(Some(keys.audit())) != EntryCheck::Valid {
            return Err(format!("line {n}: entry {} does not match its MAC", entry.seq));
        }
        if entry.prev_hash != prev {
            return Err(format!("line {n}: entry {} does not follow the one before", entry.seq));
        }
        prev = entry.hash;
        seq += 1;
        count += 1;
    }
    if count != header.entries || (count > 0 && (seq - 1 != header.last_seq || prev != header.last_hash)) {
        return Err(format!("the archive holds {count} entries, its header says {}: entries were removed or added", header.entries));
    }
    Ok(count)
}
