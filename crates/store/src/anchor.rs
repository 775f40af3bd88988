//! The anchor of the audit chain: the newest entry's seq and MAC, kept in a file
//! outside the database, so that removing the last entries — or the whole log — is
//! found by `Store::verify_audit` even though the rest of the chain still checks out.
//!
//! After each commit that appended entries the store writes the new head here
//! (`advance`): a temporary file renamed over the old one, never moving backwards (a
//! head older than the file's is not written). Between two processes on one host, or
//! after a crash just after a commit, the anchor can lag a few entries behind the
//! head; that only means the entries after it are not yet covered. It never runs
//! ahead of the committed log, so an intact log always verifies.
//!
//! Format: one line `jixiao-audit-anchor v1 <seq> <mac>`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Result, StoreError};

const HEADER: &str = "jixiao-audit-anchor v1";

/// Numbers temporary files apart (several stores of one process may share a file).
static TMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The anchor file of a store.
#[derive(Debug)]
pub struct Anchor {
    path: PathBuf,
    /// Serialises this process's writes.
    lock: Mutex<()>,
}

impl Anchor {
    pub fn new(path: PathBuf) -> Anchor {
        Anchor { path, lock: Mutex::new(()) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The recorded head, `None` if the file does not exist yet.
    pub fn read(&self) -> Result<Option<(i64, String)>> {
        read(&self.path)
    }

    /// Records `seq` and `mac` as the head unless the file already records a later one.
    pub fn advance(&self, seq: i64, mac: &str) -> Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((recorded, _)) = read(&self.path)?
            && recorded >= seq
        {
            return Ok(());
        }
        self.write(seq, mac)
    }

    /// Replaces the anchor whatever it records: for a new, empty database only (see
    /// `jixiao migrate`), which keeps the old file beside it.
    pub fn restart(&self) -> Result<Option<PathBuf>> {
        let _guard = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !self.path.exists() {
            return Ok(None);
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let kept = self.path.with_extension(format!("replaced-{stamp}"));
        std::fs::rename(&self.path, &kept).map_err(|e| io_error(&self.path, e))?;
        Ok(Some(kept))
    }

    fn write(&self, seq: i64, mac: &str) -> Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        }
        let n = TMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self.path.with_extension(format!("tmp-{}-{n}", std::process::id()));
        std::fs::write(&tmp, format!("{HEADER} {seq} {mac}\n")).map_err(|e| io_error(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| io_error(&self.path, e))
    }
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::invalid(format!("audit anchor {}: {e}", path.display()))
}

/// Reads an anchor file; `None` if it does not exist.
pub fn read(path: &Path) -> Result<Option<(i64, String)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, e)),
    };
    let bad = || StoreError::invalid(format!("audit anchor {} is unreadable", path.display()));
    let rest = text.trim().strip_prefix(HEADER).ok_or_else(bad)?;
    let mut parts = rest.split_whitespace();
    let seq = parts.next().and_then(|s| s.parse::<i64>().ok()).ok_or_else(bad)?;
    let mac = parts.next().filter(|m| m.len() == 64 && m.bytes().all(|b| b.is_ascii_hexdigit())).ok_or_else(bad)?;
    Ok(Some((seq, mac.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchor_only_moves_forward() {
        let dir = tempfile::tempdir().unwrap();
        let anchor = Anchor::new(dir.path().join("a").join("audit.anchor"));
        assert_eq!(anchor.read().unwrap(), None);
        let mac = |c: char| c.to_string().repeat(64);
        anchor.advance(5, &mac('a')).unwrap();
        anchor.advance(3, &mac('b')).unwrap();
        assert_eq!(anchor.read().unwrap(), Some((5, mac('a'))));
        anchor.advance(9, &mac('c')).unwrap();
        assert_eq!(anchor.read().unwrap(), Some((9, mac('c'))));
        let kept = anchor.restart().unwrap().unwrap();
        assert_eq!(read(&kept).unwrap(), Some((9, mac('c'))));
        assert_eq!(anchor.read().unwrap(), None);
        std::fs::write(anchor.path(), "garbage").unwrap();
        assert!(anchor.read().is_err());
    }
}
