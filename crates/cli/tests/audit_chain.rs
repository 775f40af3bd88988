//! `jixiao audit verify`, `audit export` and `audit check-archive` with the built
//! binary, on a SQLite file: the key file and the anchor are made beside it (never in
//! it), the chain verifies, an archive checks out offline; the last entries removed,
//! or all of them, are found; a missing key file with a keyed log is refused.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_jixiao");

fn jixiao(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .args(["--database", &format!("sqlite://{}", db.display())])
        .env("JIXIAO_LOG", "warn")
        .env("JIXIAO_PASSWORD", "Chain-2027-pass")
        .env_remove("JIXIAO_KEY_FILE")
        .env_remove("JIXIAO_AUDIT_ANCHOR")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sql(db: &Path, statements: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = jixiao_store::Store::connect_unchecked(&format!("sqlite://{}", db.display()), Default::default()).await.unwrap();
        for s in statements.split(';').filter(|s| !s.trim().is_empty()) {
            sqlx::query(sqlx::AssertSqlSafe(s.to_string())).execute(store.pool()).await.unwrap();
        }
        store.close().await;
    });
}

#[test]
fn the_chain_is_checked_with_the_key_file_and_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jx.db");
    ok(&jixiao(&db, &["migrate"]));
    let keys = dir.path().join("jixiao.keys");
    assert!(keys.exists(), "the key file is made beside the database");
    for name in ["a1", "a2", "a3"] {
        ok(&jixiao(&db, &["user", "add", name, "--role", "office"]));
    }
    let out = ok(&jixiao(&db, &["audit", "verify"]));
    assert!(out.starts_with("audit chain intact: 3 entries, anchor at entry 3"), "{out}");
    assert!(dir.path().join("jx.audit-anchor").exists());
    // The key is nowhere in the database file.
    let key_hex = std::fs::read_to_string(&keys).unwrap().lines().nth(1).unwrap().to_string();
    assert!(!String::from_utf8_lossy(&std::fs::read(&db).unwrap()).contains(&key_hex));

    let archive = dir.path().join("archive.jsonl");
    let out = ok(&jixiao(&db, &["audit", "export", "--output", archive.to_str().unwrap()]));
    assert!(out.starts_with("3 entries (1–3)"), "{out}");
    assert_eq!(ok(&jixiao(&db, &["audit", "check-archive", archive.to_str().unwrap()])).trim(), "archive intact: 3 entries");
    let text = std::fs::read_to_string(&archive).unwrap().replacen("\"a2\"", "\"zz\"", 1);
    std::fs::write(&archive, text).unwrap();
    let out = jixiao(&db, &["audit", "check-archive", archive.to_str().unwrap()]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("does not match its MAC"));

    // The export itself was entry 4; the last two removed.
    sql(&db, "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq > 2");
    let out = jixiao(&db, &["audit", "verify"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("entries from 3 on are missing: the anchor records entries up to 4"), "{err}");
    sql(&db, "DELETE FROM audit_log");
    let err = String::from_utf8_lossy(&jixiao(&db, &["audit", "verify"]).stderr).into_owned();
    assert!(err.contains("entries from 1 on are missing"), "{err}");

    // Without its key file a keyed log is not opened (a new key would check nothing).
    ok(&jixiao(&db, &["user", "add", "a4", "--role", "office"]));
    std::fs::remove_file(&keys).unwrap();
    let err = String::from_utf8_lossy(&jixiao(&db, &["audit", "verify"]).stderr).into_owned();
    assert!(err.contains("is missing and the audit log has entries made with a key"), "{err}");
}
