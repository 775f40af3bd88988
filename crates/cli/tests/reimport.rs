//! The case of issue 14, with the built binary: a year exported with `jixiao data
//! export` and imported again with `jixiao data import` is unchanged — the export after
//! it is the same file, with as many records (it used to add a copy of every record:
//! 417 became 831). The same file without its keys (as another program might write
//! it) derives them again and changes nothing either.

use std::process::Command;

use jixiao_store::Backend;
use jixiao_store::testing::TestDb;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_jixiao");
/// The demo year is 2027: the server lives in it, past the months the demo fills.
const CLOCK: &str = "2027-05-10T10:00:00+08:00";

#[test]
fn sqlite_export_import_export_is_identical() {
    reimport(Backend::Sqlite);
}

#[test]
fn postgres_export_import_export_is_identical() {
    reimport(Backend::Postgres);
}

fn jixiao(url: &str, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).args(["--database", url]).env("JIXIAO_LOG", "warn").env("JIXIAO_CLOCK", CLOCK).output().unwrap();
    assert!(out.status.success(), "jixiao {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn reimport(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(db) = runtime.block_on(TestDb::new(backend)) else {
        eprintln!("skipped: JIXIAO_TEST_POSTGRES=off");
        return;
    };
    // No TLS to the local test server (see crash.rs: it only costs a debug build time).
    let url = match backend {
        Backend::Postgres if !db.url.contains("sslmode=") => {
            format!("{}{}sslmode=disable", db.url, if db.url.contains('?') { '&' } else { '?' })
        }
        _ => db.url.clone(),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    jixiao(&url, &["demo", "--through-month", "4", "--seed", "7"]);

    jixiao(&url, &["data", "export", "2027", "-o", &path("first.json")]);
    let first = std::fs::read_to_string(path("first.json")).unwrap();
    let file: Value = serde_json::from_str(&first).unwrap();
    let records = file["records"].as_array().unwrap();
    assert!(records.len() > 50, "the demo has records ({})", records.len());
    assert!(records.iter().all(|r| r["key"].as_str().is_some_and(|k| k.len() == 32)), "every record exported with its derived key");

    let said = jixiao(&url, &["data", "import", &path("first.json"), "--year", "2027"]);
    let rows = file["entries"].as_array().unwrap().len() + records.len();
    assert!(said.contains(&format!("0 entries and 0 records into 2027 ({rows} rows already stored as they are)")), "{said}");
    jixiao(&url, &["data", "export", "2027", "-o", &path("second.json")]);
    assert_eq!(std::fs::read_to_string(path("second.json")).unwrap(), first, "export → import → export");

    let mut keyless = file.clone();
    for r in keyless["records"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("key");
    }
    std::fs::write(path("keyless.json"), keyless.to_string()).unwrap();
    jixiao(&url, &["data", "import", &path("keyless.json"), "--year", "2027"]);
    jixiao(&url, &["data", "export", "2027", "-o", &path("third.json")]);
    assert_eq!(std::fs::read_to_string(path("third.json")).unwrap(), first, "the file without keys imported again");
}
