//! Crash test: stored scores equal a recompute of the committed data whatever moment a
//! process is killed at.
//!
//! On a fresh database of each backend, the built `jixiao` loads the demo district,
//! then, a few dozen times, imports a changed data file of the demo year — a large
//! one (many entries, records replaced and added) or a small one (one entry: an edit)
//! — and is killed with SIGKILL after a random delay (seeded), anywhere from start-up
//! to after its commit. After each kill `jixiao serve` is started (it repairs stale
//! scores before it listens) until `/healthz` answers, and every stored period × unit
//! result must equal what `jixiao score` computes from the scheme and data files the
//! store exports (`jixiao scheme export`, `jixiao data export`): an independent path
//! through spec §8, on files, without a database.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jixiao_core::period::Period;
use jixiao_core::scheme::{FieldType, Scheme, Source};
use jixiao_store::testing::TestDb;
use jixiao_store::{Backend, Store};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_jixiao");
/// The demo year is 2027: the server lives in it, past the months the demo fills.
const CLOCK: &str = "2027-04-10T10:00:00+08:00";
const ITERATIONS: usize = 30;

#[test]
fn sqlite_survives_kills_at_any_moment() {
    crash_test(Backend::Sqlite, 0x5eed_0001);
}

#[test]
fn postgres_survives_kills_at_any_moment() {
    crash_test(Backend::Postgres, 0x5eed_0002);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Runs `jixiao args…` on the database to completion; its standard output.
fn jixiao(url: &str, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).args(["--database", url]).env("JIXIAO_LOG", "warn").env("JIXIAO_CLOCK", CLOCK).output().unwrap();
    assert!(out.status.success(), "jixiao {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Whether `GET /healthz` on `port` answers 200.
fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    if stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer).is_ok() && answer.split(' ').nth(1) == Some("200")
}

/// Starts `jixiao serve` (which repairs stale scores first) and waits for `/healthz`,
/// then stops it.
fn restart(url: &str) {
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = Command::new(BIN)
            .args(["serve", "--database", url, "--bind", &format!("127.0.0.1:{port}")])
            .env("JIXIAO_LOG", "warn")
            .env("JIXIAO_CLOCK", CLOCK)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if healthy(port) {
                server.kill().unwrap();
                server.wait().unwrap();
                return;
            }
            if let Some(status) = server.try_wait().unwrap() {
                // Most likely the port was taken in between: try another.
                eprintln!("jixiao serve ended with {status}; trying another port");
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        server.kill().ok();
        server.wait().ok();
    }
    panic!("jixiao serve never answered /healthz");
}

/// Numbers compare as numbers (`2` and `2.0` are the same, spec §8).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w)),
        _ => a == b,
    }
}

/// Every stored result of the latest scheme version equals `jixiao score` on the
/// exported files (the scheme exported once: imports do not change it); the number of
/// results compared.
fn check(url: &str, dir: &Path, step: &str) -> usize {
    let scheme_path = dir.join("export-scheme.json");
    let data_path = dir.join("export-data.json");
    let p = |path: &Path| path.to_str().unwrap().to_string();
    if !scheme_path.exists() {
        jixiao(url, &["scheme", "export", "2027", "-o", &p(&scheme_path)]);
    }
    jixiao(url, &["data", "export", "2027", "-o", &p(&data_path)]);
    let out = Command::new(BIN)
        .args(["score", "--scheme", &p(&scheme_path), "--data", &p(&data_path), "--period", "all", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{step}: jixiao score: {}", String::from_utf8_lossy(&out.stderr));
    let reports: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let stored = runtime().block_on(async {
        let store = Store::connect(url).await.unwrap();
        let version = store.scheme(2027, None).await.unwrap().info.version;
        let mut stored = std::collections::BTreeMap::new();
        for period in Period::all_in_year(2027) {
            for row in store.scores(2027, version, &period.to_string()).await.unwrap() {
                stored.insert((period.to_string(), row.unit_id), row.result);
            }
        }
        store.close().await;
        stored
    });
    let mut compared = 0;
    let mut wrong = Vec::new();
    for report in &reports {
        let period = report["period"].as_str().unwrap();
        for unit in report["units"].as_array().unwrap() {
            let id = unit["unit"].as_str().unwrap();
            match stored.get(&(period.to_string(), id.to_string())) {
                Some(result) if same(result, unit) => {}
                Some(result) => wrong.push(format!(
                    "{period} {id}: stored total {} rank {}, computed {} rank {}",
                    result["total"], result["rank"], unit["total"], unit["rank"]
                )),
                None => wrong.push(format!("{period} {id}: not stored")),
            }
            compared += 1;
        }
    }
    assert!(
        wrong.is_empty(),
        "{step}: {} of {compared} stored results differ from jixiao score, e.g.\n{}",
        wrong.len(),
        wrong[..wrong.len().min(5)].join("\n")
    );
    assert_eq!(stored.len(), compared, "{step}: stored results of units jixiao score does not list");
    compared
}

/// `base` (the exported data file) with changes: `entries` of its entries scaled
/// within their fields' bounds, and with `records` true a record replaced (same key,
/// other points) and one added; valid against the scheme.
fn changed(scheme: &Scheme, base: &Value, rng: &mut ChaCha8Rng, entries: usize, records: bool, n: usize) -> Value {
    // Entries of system-filled indicators (the service platform's) are not for files.
    let all: Vec<&Value> = base["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let indicator = scheme.indicator(scheme.node_index(e["indicator"].as_str().unwrap()).unwrap()).unwrap();
            !indicator.system_filled()
        })
        .collect();
    let mut file = json!({"entries": [], "records": []});
    let mut picked = std::collections::BTreeSet::new();
    while picked.len() < entries.min(all.len()) {
        picked.insert(rng.random_range(0..all.len()));
    }
    for &i in &picked {
        let mut entry = all[i].clone();
        let indicator = scheme.indicator(scheme.node_index(entry["indicator"].as_str().unwrap()).unwrap()).unwrap();
        let factor = rng.random_range(0.3..1.6);
        for (key, value) in entry["values"].as_object_mut().unwrap() {
            let field = indicator.fields.iter().find(|f| f.key == *key).unwrap();
            let Some(x) = value.as_f64().filter(|_| field.field_type != FieldType::Boolean) else { continue };
            let mut y = x * factor;
            if field.field_type == FieldType::Integer {
                y = y.round();
            }
            y = field.min.map_or(y, |lo| y.max(lo));
            y = field.max.map_or(y, |hi| y.min(hi));
            *value = json!(y);
        }
        file["entries"].as_array_mut().unwrap().push(entry);
    }
    if records {
        let stored = base["records"].as_array().unwrap();
        let mut replaced = stored[rng.random_range(0..stored.len())].clone();
        replaced["points"] = json!(f64::from(rng.random_range(1..8u8)) * 0.25);
        let indicators: Vec<&str> = scheme
            .indicators
            .iter()
            .filter(|&&n| scheme.indicator(n).is_some_and(|i| i.source == Source::Records))
            .map(|&n| scheme.nodes[n].id.as_str())
            .collect();
        let month = rng.random_range(1..=3u8);
        let added = json!({
            "unit": scheme.units[rng.random_range(0..scheme.units.len())].id,
            "indicator": indicators[rng.random_range(0..indicators.len())],
            "date": format!("2027-{month:02}-{:02}", rng.random_range(1..=28u8)),
            "points": f64::from(rng.random_range(1..8u8)) * 0.5,
            "note": format!("crash test {n}"),
            "key": format!("crash-{n}")
        });
        file["records"] = json!([replaced, added]);
    }
    let text = file.to_string();
    jixiao_core::data::Dataset::from_json(scheme, &text).unwrap_or_else(|e| panic!("the changed file is valid: {e}"));
    file
}

fn crash_test(backend: Backend, seed: u64) {
    let Some(db) = runtime().block_on(TestDb::new(backend)) else {
        eprintln!("skipped: JIXIAO_TEST_POSTGRES=off");
        return;
    };
    let started = Instant::now();
    // Without TLS to the test server on this machine: negotiating it costs a debug
    // build about 0.3 s per process, most of this test's time on PostgreSQL.
    let url = match backend {
        Backend::Postgres if !db.url.contains("sslmode=") => {
            format!("{}{}sslmode=disable", db.url, if db.url.contains('?') { '&' } else { '?' })
        }
        _ => db.url.clone(),
    };
    let dir = tempfile::tempdir().unwrap();
    jixiao(&url, &["demo", "--through-month", "3", "--seed", "11"]);
    let compared = check(&url, dir.path(), "after loading the demo");
    assert_eq!(compared, 17 * 76);
    let scheme = Scheme::from_json(&std::fs::read_to_string(dir.path().join("export-scheme.json")).unwrap()).unwrap();
    let base: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("export-data.json")).unwrap()).unwrap();

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut killed, mut finished) = (0, 0);
    // How long an import runs when nothing stops it, per size: kills are spread over
    // that time and a little beyond.
    let mut runtime_of = [Duration::ZERO; 2];
    for n in 0..ITERATIONS {
        let large = n % 3 != 2;
        let file = if large { changed(&scheme, &base, &mut rng, 1000, true, n) } else { changed(&scheme, &base, &mut rng, 1, false, n) };
        let path = dir.path().join(format!("import-{n}.json"));
        std::fs::write(&path, file.to_string()).unwrap();
        let size = usize::from(!large);
        let delay = (!runtime_of[size].is_zero()).then(|| runtime_of[size].mul_f64(rng.random_range(0.0..1.2)));
        let begun = Instant::now();
        let said = dir.path().join(format!("import-{n}.stderr"));
        let mut child = Command::new(BIN)
            .args(["data", "import", path.to_str().unwrap(), "--year", "2027", "--database", &url])
            .env("JIXIAO_LOG", "warn")
            .env("JIXIAO_CLOCK", CLOCK)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&said).unwrap())
            .spawn()
            .unwrap();
        let said = || std::fs::read_to_string(&said).unwrap_or_default();
        match delay {
            // The first of each size runs to the end, to time it.
            None => {
                assert!(child.wait().unwrap().success(), "import {n}: {}", said());
                runtime_of[size] = begun.elapsed();
                finished += 1;
            }
            Some(delay) => {
                std::thread::sleep(delay);
                match child.try_wait().unwrap() {
                    Some(status) => {
                        assert!(status.success(), "import {n} failed on its own: {}", said());
                        finished += 1;
                    }
                    None => {
                        child.kill().unwrap();
                        child.wait().unwrap();
                        killed += 1;
                    }
                }
            }
        }
        restart(&url);
        check(&url, dir.path(), &format!("after import {n} ({}, {delay:?})", if large { "large" } else { "one entry" }));
    }
    eprintln!(
        "{backend}: {ITERATIONS} imports, {killed} killed, {finished} finished; every stored result equal to jixiao score after each; {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(killed >= ITERATIONS / 3, "most imports are killed part-way ({killed} of {ITERATIONS})");
}
