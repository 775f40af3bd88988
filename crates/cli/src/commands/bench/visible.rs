//! `jixiao bench visible`: edit → visible. On the demo district in a fresh SQLite
//! file, served by the real web app on a loopback port, each edit goes through the
//! reporting workflow over the JSON API — the unit's reporter submits a changed
//! value, its head approves it — and then the timed part: the office accepts it and
//! the API is asked for the unit's scores of the month (`/api/v1/scores?period=&unit=`)
//! until its new total is there.
//! Demo entries are accepted already, so each edit starts with the office returning
//! the entry (untimed), as a correction does. The expected total comes from a `Scoreboard` fed the same edits, so every timed
//! request is also checked.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jixiao_core::data::{Dataset, EntryRow, validate_entry};
use jixiao_core::generate::demo_district;
use jixiao_core::period::{Month, Period};
use jixiao_core::scheme::{Scheme, Source};
use jixiao_core::score::{PeriodReport, Scoreboard};
use jixiao_store::{Store, StoreOptions};
use serde_json::{Value, json};

use super::{median, ms};

pub async fn run(edits: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("visible.db").display());
    let store = Store::connect_unchecked(&url, StoreOptions::default()).await?;
    store.migrate().await?;
    let (scheme_file, data_file) = demo_district(2027, 11, 2027);
    let scheme = Arc::new(Scheme::from_file(scheme_file.clone())?);
    let mut tx = store.begin("bench").await?;
    store.import_scheme(&mut tx, &scheme_file, "bench").await?;
    store.import_data(&mut tx, 2027, &data_file).await?;
    tx.audit("data.import", "data", "2027", None, None).await?;
    // API tokens: the office, and a reporter and a head for every unit.
    let mut tokens = std::collections::HashMap::new();
    for (role, unit) in std::iter::once(("office", None))
        .chain(scheme.units.iter().flat_map(|u| [("reporter", Some(u.id.as_str())), ("head", Some(u.id.as_str()))]))
    {
        let secret = format!("bench-{role}-{}", unit.unwrap_or("all"));
        store.add_token(&mut tx, &secret, &jixiao_app::accounts::secret_hash(&secret), None, role, unit).await?;
        tokens.insert((role, unit.map(str::to_string)), secret);
    }
    tx.audit("token.add", "token", "bench", None, None).await?;
    tx.commit().await?;
    store.refresh_scores(2027).await?;
    let app = jixiao_app::App::new(store.clone(), jixiao_app::AppConfig::default(), jixiao_app::Clock::system()).await?;
    let addr = jixiao_web::spawn(app, jixiao_web::WebConfig::default(), "127.0.0.1:0".parse()?).await?;
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");

    // The edits: existing monthly entries of fields-sourced indicators, spread over
    // units, indicators and months, each value changed within its field's bounds.
    let mut board = Scoreboard::new(scheme.clone(), Dataset::load(&scheme, &data_file)?);
    let candidates: Vec<&EntryRow> = data_file
        .entries
        .iter()
        .filter(|e| scheme.node_index(&e.indicator).and_then(|n| scheme.indicator(n)).is_some_and(|i| i.source == Source::Fields))
        .collect();
    println!(
        "jixiao bench visible: demo district ({} units, {} indicators, {} entries) on SQLite, {edits} edits",
        scheme.units.len(),
        scheme.indicators.len(),
        data_file.entries.len()
    );
    let step = (candidates.len() / edits.max(1)).max(1);
    let mut timings = Vec::with_capacity(edits);
    // The accept request alone (it returns once the scores are stored).
    let mut accepts = Vec::with_capacity(edits);
    let mut round = 0;
    while timings.len() < edits {
        if round > edits * 20 + 100 {
            bail!("too many edits refused ({round} tried, {} timed): run with JIXIAO_BENCH_VERBOSE=1 to see why", timings.len());
        }
        let Some(entry) = candidates.get((timings.len() * step + round) % candidates.len()) else { break };
        round += 1;
        let n = scheme.node_index(&entry.indicator).context("indicator")?;
        let ind = scheme.indicator(n).context("indicator")?;
        let mut values = entry.values.clone();
        for field in &ind.fields {
            if let Some(v) = values.get(&field.key).and_then(Value::as_f64) {
                let mut new = if timings.len() % 2 == 0 { v * 1.1 + 1.0 } else { v * 0.9 };
                new = new.max(field.min.unwrap_or(f64::MIN)).min(field.max.unwrap_or(f64::MAX));
                if field.field_type == jixiao_core::scheme::FieldType::Integer
                    || field.field_type == jixiao_core::scheme::FieldType::Boolean
                {
                    new = new.round();
                }
                values.insert(field.key.clone(), json!(new));
            }
        }
        let row = EntryRow { values, ..(*entry).clone() };
        let Ok(validated) = validate_entry(&scheme, &row) else { continue };
        let month: Month = row.month.parse()?;
        let path = format!("{base}/api/v1/units/{}/entries/{}/{}", row.unit, row.indicator, row.month);
        let token = |role: &'static str| tokens[&(role, if role == "office" { None } else { Some(row.unit.clone()) })].clone();
        // Every demo entry is accepted already: the office returns it first, as for a
        // correction (an entry not yet reported would start at the submit).
        let mut version = current_version(&http, &base, &token("reporter"), &row).await?;
        if version.is_some() {
            version = post(&http, &path, &token("office"), json!({"step": "return", "version": version, "reason": "请核实后重报"})).await?;
            if version.is_none() {
                continue;
            }
        }
        let body = json!({"step": "submit", "values": row.values, "version": version, "reason": "基准测试：数值调整"});
        let Some(version) = post(&http, &path, &token("reporter"), body).await? else { continue };
        let version = post(&http, &path, &token("head"), json!({"step": "approve", "version": version})).await?.context("head approves")?;
        board.set_entry(&validated);
        let period = Period::Month(month);
        let want = PeriodReport::new(&scheme, board.period(period).context("period")?)
            .units
            .into_iter()
            .find(|u| u.unit == row.unit)
            .context("unit")?
            .total;

        let started = Instant::now();
        post(&http, &path, &token("office"), json!({"step": "accept", "version": version})).await?.context("office accepts")?;
        accepts.push(started.elapsed());
        loop {
            let scores: Value = http
                .get(format!("{base}/api/v1/scores?period={month}&unit={}", row.unit))
                .bearer_auth(token("office"))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let total = scores["units"]
                .as_array()
                .and_then(|u| u.iter().find(|u| u["result"]["unit"] == row.unit.as_str()))
                .and_then(|u| u["result"]["total"].as_f64());
            if total == Some(want) {
                break;
            }
            if started.elapsed() > Duration::from_secs(10) {
                bail!("{} {} {month}: the API shows {total:?}, the engine {want}", row.unit, row.indicator);
            }
        }
        timings.push(started.elapsed());
    }
    timings.sort();
    let p = |q: f64| timings[((timings.len() as f64 * q).ceil() as usize).clamp(1, timings.len()) - 1];
    println!("  edits timed          {:>8}", timings.len());
    println!(
        "  accept → new total   median {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        ms(median(timings.clone())),
        ms(p(0.99)),
        ms(p(1.0))
    );
    println!("  of which the accept  median {:>7.2} ms", ms(median(accepts)));
    Ok(())
}

/// The version of the entry the reporter reads before changing it.
async fn current_version(http: &reqwest::Client, base: &str, token: &str, row: &EntryRow) -> anyhow::Result<Option<i64>> {
    let month: Value = http
        .get(format!("{base}/api/v1/units/{}/entries?month={}", row.unit, row.month))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(month["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["indicator"] == row.indicator.as_str()))
        .and_then(|e| e["version"].as_i64()))
}

/// POSTs a change; the entry's new version, or `None` when the workflow refuses it
/// (a value the checks reject: that edit is skipped).
async fn post(http: &reqwest::Client, path: &str, token: &str, body: Value) -> anyhow::Result<Option<i64>> {
    let r = http.post(path).bearer_auth(token).json(&body).send().await?;
    if r.status().is_client_error() {
        if std::env::var_os("JIXIAO_BENCH_VERBOSE").is_some() {
            eprintln!("refused: {path}: {} {}", r.status(), r.text().await.unwrap_or_default());
        }
        return Ok(None);
    }
    let v: Value = r.error_for_status()?.json().await?;
    Ok(v["version"].as_i64())
}
