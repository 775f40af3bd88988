//! `jixiao bench import`: the import of one month of a province-sized scheme, from
//! JSON and from xlsx, into a fresh SQLite or PostgreSQL database, with the recompute,
//! against a bare bulk insert of the same rows measured in the same run.
//!
//! Input: `generate::synthetic(units, indicators, seed)`, of which only the entries of
//! one month are kept (by default the month with the most entries: December, when
//! monthly, quarterly and annual indicators are all due). Records are left out.
//!
//! Each run writes the month several times, each time into a fresh database that
//! holds the migrated schema and the scheme (with its groups and units) and nothing
//! else — or, with `--earlier-months`, also the year's entries before the month,
//! loaded untimed, as in a real year:
//!
//! 1. **bare insert** — the baseline: the month's rows, their values already JSON
//!    text, into the entries table in multi-row INSERTs in one transaction; no
//!    parsing, no validation, no audit entry, no recompute. It is measured for each
//!    `--bare-batches` size (default: 1000 rows a statement, the shape
//!    `Store::import_data` uses, and 100), each on a fresh database, and the fastest
//!    is the baseline of the ratios.
//! 2. **JSON** — the month as a data file (spec §3) in memory: parse it (serde), load
//!    and compile the year's scheme from the database, validate every row
//!    (`Dataset::load`), `Store::import_data` in one `WriteTx` with its `data.import`
//!    audit entry, commit; then the recompute, `Store::refresh_scores` (all 17 periods
//!    of the year, scored and saved).
//! 3. **xlsx** — the same month as one workbook in memory, read back with calamine
//!    into entry rows, then the same steps as JSON.
//!
//! Once, after the first run, the recompute is repeated step by step on the JSON
//! database (read the year's entries, load, score, reports as JSON, save), to show
//! where its time goes; those figures are not part of the ratios.
//!
//! The workbook, "an office's import of a whole month", is written before the timing
//! starts, and read, by `jixiao_app::xlsx::month` — the layout and reader of the
//! office's whole-month import on the reporting page: one sheet named after the
//! month (continued on `2027-12 (2)`… past a sheet's rows), the header
//! `单位编号 | 指标编号 | 填报项编号 | 数值`, one row per value. The benchmark reads it
//! without the scheme check (the import that follows validates the rows, as for JSON).
//!
//! SQLite databases are files in a new temporary directory; PostgreSQL databases
//! `jx_bench_<pid>_<n>` are created through an admin URL and dropped afterwards, also
//! when the benchmark fails.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use jixiao_app::xlsx::month as month_workbook;
use jixiao_core::data::{DataFile, Dataset, EntryRow};
use jixiao_core::generate::synthetic;
use jixiao_core::period::{Month, Period};
use jixiao_core::scheme::SchemeFile;
use jixiao_core::score::{PeriodReport, score_periods};
use jixiao_store::{Backend, Store, StoreOptions};
use serde_json::Value;
use sqlx::Connection;

use super::{median, ms};

/// The admin URL of PostgreSQL when `--database postgres` names none.
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Rows per INSERT statement of `Store::import_data`.
const IMPORT_BATCH: usize = 1000;

#[derive(clap::Args)]
pub struct ImportArgs {
    #[arg(long, default_value_t = 2000)]
    units: usize,
    #[arg(long, default_value_t = 300)]
    indicators: usize,
    /// The month imported, e.g. 2027-06 (default: the month with the most entries).
    #[arg(long)]
    month: Option<String>,
    /// Timed repetitions, each on fresh databases (the median is reported).
    #[arg(long, default_value_t = 1)]
    runs: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Rows per INSERT statement of the bare insert, each size on a fresh database;
    /// the fastest is the baseline of the ratios. The default measures the statement
    /// shape of `import_data` (1000 rows) and a smaller one.
    #[arg(long, value_delimiter = ',', default_values_t = [IMPORT_BATCH, 100])]
    bare_batches: Vec<usize>,
    /// Load the year's months before the imported one into every database first (not
    /// timed), as in a real year: the bare insert and the imports then add to a
    /// filled table, and the recompute reads and scores the earlier months too.
    #[arg(long)]
    earlier_months: bool,
    /// Start with the xlsx path (the paths alternate from run to run; by default the
    /// first run starts with JSON).
    #[arg(long)]
    xlsx_first: bool,
    /// `sqlite` (fresh files in a temporary directory; a `sqlite://` URL means the
    /// same, its path is not used), `postgres` (the admin URL of JIXIAO_TEST_POSTGRES,
    /// else postgres://postgres@127.0.0.1:5432/test) or a `postgres://…` admin URL
    /// through which the benchmark creates and drops its own databases.
    #[arg(long, default_value = "sqlite")]
    database: String,
}

/// Where the fresh databases come from.
enum Target {
    Sqlite(tempfile::TempDir),
    Postgres { admin: String },
}

impl Target {
    fn parse(database: &str) -> anyhow::Result<Target> {
        if database == "sqlite" || database.starts_with("sqlite:") {
            return Ok(Target::Sqlite(tempfile::tempdir().context("cannot create a temporary directory")?));
        }
        if database == "postgres" {
            let admin = std::env::var("JIXIAO_TEST_POSTGRES")
                .ok()
                .filter(|v| !v.is_empty() && v != "off")
                .unwrap_or_else(|| DEFAULT_POSTGRES.to_string());
            return Ok(Target::Postgres { admin });
        }
        if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            return Ok(Target::Postgres { admin: database.to_string() });
        }
        bail!("--database: `{database}` is neither `sqlite`, `postgres` nor a postgres:// admin URL")
    }

    fn backend(&self) -> Backend {
        match self {
            Target::Sqlite(_) => Backend::Sqlite,
            Target::Postgres { .. } => Backend::Postgres,
        }
    }
}

/// The fresh databases of this invocation, dropped by `drop_created` after each run.
struct Databases {
    target: Target,
    /// PostgreSQL database names or SQLite file paths.
    created: Vec<String>,
    counter: usize,
}

impl Databases {
    /// A new, empty database's URL.
    async fn create(&mut self) -> anyhow::Result<String> {
        self.counter += 1;
        let n = self.counter;
        match &self.target {
            Target::Sqlite(dir) => {
                let file = dir.path().join(format!("bench_{n}.db")).display().to_string();
                self.created.push(file.clone());
                Ok(format!("sqlite://{file}"))
            }
            Target::Postgres { admin } => {
                let name = format!("jx_bench_{}_{n}", std::process::id());
                let mut conn = sqlx::AnyConnection::connect(admin)
                    .await
                    .with_context(|| format!("PostgreSQL admin URL {}", jixiao_store::redact_url(admin)))?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut conn)
                    .await
                    .with_context(|| format!("cannot create database {name}"))?;
                conn.close().await.ok();
                self.created.push(name.clone());
                Ok(with_database(admin, &name))
            }
        }
    }

    /// Drops the databases made so far: PostgreSQL databases, SQLite files.
    async fn drop_created(&mut self) {
        let created = std::mem::take(&mut self.created);
        let admin = match &self.target {
            Target::Sqlite(_) => {
                for file in &created {
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{file}{suffix}"));
                    }
                }
                return;
            }
            Target::Postgres { admin } => admin,
        };
        let Ok(mut conn) = sqlx::AnyConnection::connect(admin).await else {
            eprintln!("warning: could not reconnect to drop the databases {created:?}");
            return;
        };
        for name in &created {
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await {
                eprintln!("warning: could not drop database {name}: {e}");
            }
        }
        conn.close().await.ok();
    }
}

/// `postgres://…/test?x` → `postgres://…/name?x`.
fn with_database(admin: &str, name: &str) -> String {
    let (head, query) = match admin.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (admin, None),
    };
    let base = head.rsplit_once('/').map_or(head, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// The month's input in every form the timed paths start from.
struct Input {
    year: i32,
    scheme_file: SchemeFile,
    /// The month as a data file (for checking what the paths read).
    file: DataFile,
    json: Vec<u8>,
    xlsx: Vec<u8>,
    /// (unit, indicator, month, values as JSON text) for the bare insert.
    bare: Vec<[String; 4]>,
    /// With `--earlier-months`: the year's entries before the month, loaded into every
    /// database before the timing.
    earlier: Option<DataFile>,
}

/// One path's timed steps.
#[derive(Default, Clone, Copy)]
struct Steps {
    read: Duration,
    scheme: Duration,
    validate: Duration,
    write: Duration,
    recompute: Duration,
}

impl Steps {
    fn import(&self) -> Duration {
        self.read + self.scheme + self.validate + self.write
    }

    fn with_recompute(&self) -> Duration {
        self.import() + self.recompute
    }
}

/// One run's figures.
struct Run {
    /// Per entry of `--bare-batches`.
    bare: Vec<Duration>,
    json: Steps,
    xlsx: Steps,
}

impl Run {
    /// The fastest bare insert of the run.
    fn floor(&self) -> Duration {
        self.bare.iter().copied().min().unwrap_or_default()
    }
}

/// `refresh_scores` step by step, measured once apart from the timed runs.
struct Recompute {
    read: Duration,
    load: Duration,
    score: Duration,
    report: Duration,
    save: Duration,
    rows: i64,
    bytes: i64,
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    // The raw admin connections are made before any `Store`, which installs them too.
    sqlx::any::install_default_drivers();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let target = Target::parse(&args.database)?;
    let mut dbs = Databases { target, created: Vec::new(), counter: 0 };
    let outcome = runtime.block_on(bench(&args, &mut dbs));
    runtime.block_on(dbs.drop_created());
    outcome
}

async fn bench(args: &ImportArgs, dbs: &mut Databases) -> anyhow::Result<()> {
    let runs = args.runs.max(1);
    let backend = dbs.target.backend();
    let t = Instant::now();
    // On a thread of its own, so that the generator's gigabyte of short-lived rows is
    // allocated and freed in another malloc arena than the timed steps that run here.
    let (input, summary) =
        std::thread::scope(|s| s.spawn(|| prepare(args)).join()).map_err(|_| anyhow!("preparing the input panicked"))??;
    let prepared = t.elapsed();
    println!(
        "jixiao bench import: {} units × {} indicators, month {}, {backend}, {runs} run{}",
        args.units.max(1),
        args.indicators.max(1),
        summary.month,
        if runs == 1 { "" } else { "s" }
    );
    println!(
        "  entries             {:>9}  (one month; {} values; months of the year {}–{} entries, {} in all)",
        input.file.entries.len(),
        summary.values,
        summary.fewest,
        summary.most,
        summary.year_entries
    );
    println!("  JSON data file      {:>9.1} MiB", mib(input.json.len()));
    println!(
        "  xlsx workbook       {:>9.1} MiB  ({} rows in {} sheet{})",
        mib(input.xlsx.len()),
        summary.values,
        summary.sheets,
        if summary.sheets == 1 { "" } else { "s" }
    );
    if let Some(earlier) = &input.earlier {
        println!("  earlier months      {:>9}  entries in every database before each import (not timed)", earlier.entries.len());
    }
    println!("  prepared in         {:>9.1} s  (generate, month's JSON and xlsx; not timed)", prepared.as_secs_f64());

    let batches: Vec<usize> = args.bare_batches.iter().map(|&b| b.max(1)).collect();
    let batches = if batches.is_empty() { vec![IMPORT_BATCH] } else { batches };
    let mut all = Vec::with_capacity(runs);
    let mut breakdown = None;
    for i in 0..runs {
        // The paths take turns going first: each leaves the allocator's heap in another
        // state, which shows in the next path's times.
        let xlsx_first = if args.xlsx_first { i % 2 == 0 } else { i % 2 == 1 };
        let run = one_run(&input, dbs, &batches, xlsx_first, (i == 0).then_some(&mut breakdown)).await;
        dbs.drop_created().await;
        all.push(run?);
    }

    let med = |f: &dyn Fn(&Run) -> Duration| median(all.iter().map(f).collect());
    // (median, lowest, highest) over the runs; each run's ratio is of figures of that run.
    let ratio = |f: &dyn Fn(&Run) -> f64| {
        let mut v: Vec<f64> = all.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let floor = med(&|r| r.floor());
    println!();
    println!("  {:<34}{:>11}{:>11}", "ms (median of runs)", "JSON", "xlsx");
    let line = |label: &str, f: &dyn Fn(&Steps) -> Duration| {
        println!("  {label:<34}{:>11.1}{:>11.1}", ms(med(&|r| f(&r.json))), ms(med(&|r| f(&r.xlsx))));
    };
    line("read (parse / calamine)", &|s| s.read);
    line("scheme (load + compile)", &|s| s.scheme);
    line("validate (Dataset::load)", &|s| s.validate);
    line("import_data + audit + commit", &|s| s.write);
    line("import, total", &|s| s.import());
    line("recompute (refresh_scores)", &|s| s.recompute);
    line("import + recompute", &|s| s.with_recompute());
    for (b, batch) in batches.iter().enumerate() {
        let label = format!("bare insert, {batch} rows/INSERT");
        println!("  {label:<34}{:>11.1}", ms(med(&|r| r.bare[b])));
    }
    println!("  {:<34}{:>11.1}", "bare insert, fastest (baseline)", ms(floor));
    let ratios = |label: &str, f: &dyn Fn(&Steps) -> Duration| {
        let json = ratio(&|r| f(&r.json).as_secs_f64() / r.floor().as_secs_f64());
        let xlsx = ratio(&|r| f(&r.xlsx).as_secs_f64() / r.floor().as_secs_f64());
        let verdict = if json.0 <= 3.0 && xlsx.0 <= 3.0 { "met" } else { "NOT met" };
        println!("  {label:<34}{:>9.2} ×{:>9.2} ×   target ≤ 3 ×: {verdict}", json.0, xlsx.0);
        if runs > 1 {
            println!("  {:<34}{:>11}{:>11}", "  lowest–highest of runs", range(json), range(xlsx));
        }
    };
    fn range((_, lo, hi): (f64, f64, f64)) -> String {
        format!("{lo:.1}–{hi:.1}")
    }
    ratios("ratio import / baseline", &|s| s.import());
    ratios("ratio import + recompute / baseline", &|s| s.with_recompute());
    let rate = |d: Duration| input.file.entries.len() as f64 / d.as_secs_f64();
    println!(
        "  {:<34}{:>11.0}{:>11.0}   (baseline: {:.0})",
        "entries / s, import + recompute",
        rate(med(&|r| r.json.with_recompute())),
        rate(med(&|r| r.xlsx.with_recompute())),
        rate(floor)
    );
    if let Some(r) = breakdown {
        println!("  recompute step by step (once, JSON database, ms):");
        println!("    read the year's entries {:>9.1}", ms(r.read));
        println!("    scheme + Dataset::load  {:>9.1}", ms(r.load));
        println!("    score 17 periods        {:>9.1}", ms(r.score));
        println!("    reports as JSON         {:>9.1}", ms(r.report));
        println!(
            "    save scores             {:>9.1}  ({} rows, {:.1} MiB of JSON)",
            ms(r.save),
            r.rows,
            mib(usize::try_from(r.bytes).unwrap_or(0))
        );
    }
    Ok(())
}

/// What `prepare` found, for the header.
struct Summary {
    month: String,
    values: usize,
    fewest: usize,
    most: usize,
    year_entries: usize,
    sheets: usize,
}

fn prepare(args: &ImportArgs) -> anyhow::Result<(Input, Summary)> {
    let (scheme_file, year_file) = synthetic(args.units, args.indicators, args.seed);
    let year = scheme_file.year;
    let mut per_month: HashMap<&str, usize> = HashMap::new();
    for e in &year_file.entries {
        *per_month.entry(e.month.as_str()).or_default() += 1;
    }
    let month = match &args.month {
        Some(m) => {
            let parsed: Month = m.parse().map_err(|e| anyhow!("--month {m}: {e}"))?;
            if parsed.year != year {
                bail!("--month {m}: the synthetic scheme is for {year}");
            }
            parsed.to_string()
        }
        // The most entries; the later month on a tie.
        None => per_month
            .iter()
            .max_by_key(|(m, n)| (**n, **m))
            .map(|(m, _)| m.to_string())
            .ok_or_else(|| anyhow!("the synthetic data has no entries"))?,
    };
    let fewest = per_month.values().copied().min().unwrap_or(0);
    let most = per_month.values().copied().max().unwrap_or(0);
    let year_entries = year_file.entries.len();
    let (entries, before): (Vec<EntryRow>, Vec<EntryRow>) =
        year_file.entries.into_iter().filter(|e| e.month <= month).partition(|e| e.month == month);
    let earlier = args.earlier_months.then(|| DataFile { entries: before, records: Vec::new() });
    if entries.is_empty() {
        bail!("no entries in {month}");
    }
    let file = DataFile { entries, records: Vec::new() };
    let values = file.entries.iter().map(|e| e.values.len()).sum();
    let json = serde_json::to_vec(&file)?;
    let (xlsx, sheets) = write_workbook(&month, &file.entries)?;
    let bare = file
        .entries
        .iter()
        .map(|e| [e.unit.clone(), e.indicator.clone(), e.month.clone(), Value::Object(e.values.clone()).to_string()])
        .collect();
    // The paths must read back exactly the month's values.
    check_same(&file, &read_workbook(&xlsx)?).context("the workbook does not read back as the month's data")?;
    check_same(&file, &serde_json::from_slice(&json)?).context("the JSON does not read back as the month's data")?;
    let summary = Summary { month, values, fewest, most, year_entries, sheets };
    Ok((Input { year, scheme_file, file, json, xlsx, bare, earlier }, summary))
}

/// Same entries with the same values as numbers (the workbook turns `3` into `3.0`).
fn check_same(expected: &DataFile, got: &DataFile) -> anyhow::Result<()> {
    if expected.entries.len() != got.entries.len() {
        bail!("{} entries, expected {}", got.entries.len(), expected.entries.len());
    }
    let key = |e: &EntryRow| (e.unit.clone(), e.indicator.clone(), e.month.clone());
    let index: HashMap<_, &EntryRow> = got.entries.iter().map(|e| (key(e), e)).collect();
    let number = |v: &Value| v.as_bool().map_or_else(|| v.as_f64(), |b| Some(f64::from(u8::from(b))));
    for e in &expected.entries {
        let other = index.get(&key(e)).ok_or_else(|| anyhow!("entry {}/{}/{} missing", e.unit, e.indicator, e.month))?;
        if e.values.len() != other.values.len() || e.values.iter().any(|(k, v)| other.values.get(k).and_then(number) != number(v)) {
            bail!("entry {}/{}/{}: {:?} read back as {:?}", e.unit, e.indicator, e.month, e.values, other.values);
        }
    }
    Ok(())
}

async fn one_run(
    input: &Input,
    dbs: &mut Databases,
    batches: &[usize],
    xlsx_first: bool,
    breakdown: Option<&mut Option<Recompute>>,
) -> anyhow::Result<Run> {
    let mut bare = Vec::with_capacity(batches.len());
    for &batch in batches {
        let store = fresh_store(input, dbs).await?;
        bare.push(bare_insert(&store, input.year, &input.bare, batch).await?);
        check_count(&store, input).await?;
        store.close().await;
    }
    let (json, xlsx) = if xlsx_first {
        let xlsx = xlsx_path(input, dbs).await?;
        (json_path(input, dbs, breakdown).await?, xlsx)
    } else {
        let json = json_path(input, dbs, breakdown).await?;
        (json, xlsx_path(input, dbs).await?)
    };
    Ok(Run { bare, json, xlsx })
}

async fn json_path(input: &Input, dbs: &mut Databases, breakdown: Option<&mut Option<Recompute>>) -> anyhow::Result<Steps> {
    let store = fresh_store(input, dbs).await?;
    let t = Instant::now();
    let file: DataFile = serde_json::from_slice(&input.json).context("JSON data file")?;
    let read = t.elapsed();
    let steps = import(&store, input.year, file, read, "json").await?;
    check_count(&store, input).await?;
    if let Some(slot) = breakdown {
        *slot = Some(recompute_steps(&store, input.year).await?);
    }
    store.close().await;
    Ok(steps)
}

async fn xlsx_path(input: &Input, dbs: &mut Databases) -> anyhow::Result<Steps> {
    let store = fresh_store(input, dbs).await?;
    let t = Instant::now();
    let file = read_workbook(&input.xlsx)?;
    let read = t.elapsed();
    let steps = import(&store, input.year, file, read, "xlsx").await?;
    check_count(&store, input).await?;
    store.close().await;
    Ok(steps)
}

/// A fresh database, migrated, holding the scheme (with its groups and units).
async fn fresh_store(input: &Input, dbs: &mut Databases) -> anyhow::Result<Store> {
    let url = dbs.create().await?;
    let store = Store::connect_unchecked(&url, StoreOptions::default()).await?;
    store.migrate().await?;
    let mut tx = store.begin("bench").await?;
    let version = store.import_scheme(&mut tx, &input.scheme_file, "bench import").await?;
    tx.audit(
        "scheme.import",
        "scheme",
        &format!("{}/v{version}", input.year),
        None,
        Some(serde_json::json!({"name": input.scheme_file.name, "reason": "bench import"})),
    )
    .await?;
    tx.commit().await?;
    if let Some(earlier) = &input.earlier {
        let mut tx = store.begin("bench").await?;
        let summary = store.import_data(&mut tx, input.year, earlier).await?;
        tx.audit("data.import", "data", &input.year.to_string(), None, Some(serde_json::json!({"entries": summary.entries}))).await?;
        tx.commit().await?;
    }
    Ok(store)
}

/// The timed steps after reading: the scheme, validation, the audited import, the recompute.
async fn import(store: &Store, year: i32, file: DataFile, read: Duration, source: &str) -> anyhow::Result<Steps> {
    let t = Instant::now();
    let scheme = store.scheme(year, None).await?.compile()?;
    let scheme_time = t.elapsed();

    let t = Instant::now();
    let dataset = Dataset::load(&scheme, &file).with_context(|| format!("{source} data"))?;
    let validate = t.elapsed();
    drop(dataset);

    let t = Instant::now();
    let mut tx = store.begin("bench").await?;
    let summary = store.import_data(&mut tx, year, &file).await?;
    tx.audit(
        "data.import",
        "data",
        &year.to_string(),
        None,
        Some(serde_json::json!({"source": source, "entries": summary.entries, "records": summary.records})),
    )
    .await?;
    tx.commit().await?;
    let write = t.elapsed();

    let t = Instant::now();
    store.refresh_scores(year).await?;
    let recompute = t.elapsed();
    Ok(Steps { read, scheme: scheme_time, validate, write, recompute })
}

/// A full recompute of the year, one step at a time, saving every period's rows
/// again (`save_scores`), and the size of what it saves: the work of
/// `Store::refresh_scores` on a year too large to keep in memory, except that
/// `refresh_scores` compares with the stored rows and writes only the changed ones.
async fn recompute_steps(store: &Store, year: i32) -> anyhow::Result<Recompute> {
    let t = Instant::now();
    let stored = store.scheme(year, None).await?;
    let version = stored.info.version;
    let file = store.data_file(year).await?;
    let read = t.elapsed();
    // Off the async thread, as `refresh_scores` does it.
    let (load, score, report, reports) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let t = Instant::now();
        let scheme = stored.compile()?;
        let data = Dataset::load(&scheme, &file)?;
        drop(file);
        let load = t.elapsed();
        let t = Instant::now();
        let results = score_periods(&scheme, &data, &Period::all_in_year(year));
        let score = t.elapsed();
        let t = Instant::now();
        let mut reports = Vec::with_capacity(results.len());
        for result in results {
            let rows = PeriodReport::new(&scheme, &result)
                .units
                .into_iter()
                .map(|u| Ok((u.unit.clone(), serde_json::to_value(&u)?)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            reports.push((result.period.to_string(), rows));
        }
        Ok((load, score, t.elapsed(), reports))
    })
    .await??;
    let t = Instant::now();
    for (period, rows) in reports {
        store.save_scores(year, version, &period, rows).await?;
    }
    let save = t.elapsed();
    let (rows, bytes): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), SUM(OCTET_LENGTH(result_json)) FROM scores").fetch_one(store.pool()).await?;
    Ok(Recompute { read, load, score, report, save, rows, bytes })
}

/// The floor: the same rows into the entries table, nothing else, one transaction,
/// `batch` rows per INSERT.
async fn bare_insert(store: &Store, year: i32, rows: &[[String; 4]], batch: usize) -> anyhow::Result<Duration> {
    let at = jixiao_store::timestamp(chrono::Utc::now());
    let t = Instant::now();
    let mut tx = store.pool().begin().await?;
    for chunk in rows.chunks(batch) {
        let mut sql = String::with_capacity(120 + chunk.len() * 40);
        sql.push_str(
            "INSERT INTO entries (year, unit_id, indicator_id, month, values_json, state, version, updated_by, \
             updated_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = 4 + i * 4;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("($1,${},${},${},${},'accepted',1,$2,$3)", p, p + 1, p + 2, p + 3));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(year).bind("bench").bind(&at);
        for [unit, indicator, month, values] in chunk {
            query = query.bind(unit).bind(indicator).bind(month).bind(values);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(t.elapsed())
}

/// The month's entries are all in the database, and nothing else but the earlier months.
async fn check_count(store: &Store, input: &Input) -> anyhow::Result<()> {
    let month = &input.file.entries[0].month;
    let (n, total): (i64, i64) = sqlx::query_as("SELECT SUM(CASE WHEN month = $1 THEN 1 ELSE 0 END), COUNT(*) FROM entries")
        .bind(month)
        .fetch_one(store.pool())
        .await?;
    let expected = input.file.entries.len();
    let all = expected + input.earlier.as_ref().map_or(0, |e| e.entries.len());
    if usize::try_from(n).ok() != Some(expected) || usize::try_from(total).ok() != Some(all) {
        bail!("the database holds {n} entries of {month} and {total} in all, expected {expected} and {all}");
    }
    Ok(())
}

/// The month as a workbook in the layout of `jixiao_app::xlsx::month` (the office's
/// whole-month import); returns the bytes and the number of sheets.
fn write_workbook(month: &str, entries: &[EntryRow]) -> anyhow::Result<(Vec<u8>, usize)> {
    for e in entries {
        for (field, value) in &e.values {
            if !(value.is_boolean() || value.as_f64().is_some()) {
                bail!("entry {}/{}: field {field} = {value} is neither a number nor a boolean", e.unit, e.indicator);
            }
        }
    }
    let rows = entries.iter().flat_map(|e| {
        e.values.iter().map(|(field, value)| month_workbook::Row {
            unit: &e.unit,
            indicator: &e.indicator,
            field,
            value: match value {
                Value::Bool(b) => month_workbook::Cell::Bool(*b),
                v => v.as_f64().map_or(month_workbook::Cell::Empty, month_workbook::Cell::Number),
            },
            names: None,
        })
    });
    Ok(month_workbook::write(month, rows)?)
}

/// Reads a month's workbook with the web's reader (no scheme check: the import that
/// follows validates the rows, as for JSON). Every problem is reported by sheet and cell.
fn read_workbook(bytes: &[u8]) -> anyhow::Result<DataFile> {
    match month_workbook::read(bytes, None) {
        Ok(book) => Ok(book.file),
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            bail!("the workbook has errors:\n  {}", lines.join("\n  "))
        }
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / 1048576.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month_of(units: usize, indicators: usize, month: &str) -> DataFile {
        let (_, file) = synthetic(units, indicators, 7);
        DataFile { entries: file.entries.into_iter().filter(|e| e.month == month).collect(), records: Vec::new() }
    }

    #[test]
    fn the_workbook_reads_back_as_the_month() {
        let file = month_of(12, 15, "2027-12");
        assert!(!file.entries.is_empty());
        let (bytes, sheets) = write_workbook("2027-12", &file.entries).unwrap();
        assert_eq!(sheets, 1);
        check_same(&file, &read_workbook(&bytes).unwrap()).unwrap();
    }

    #[test]
    fn a_bad_workbook_names_its_cells() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet().set_name("2027-03").unwrap();
        for (c, h) in month_workbook::HEADER.iter().enumerate() {
            sheet.write(0, c as u16, *h).unwrap();
        }
        sheet.write(1, 0, "u01").unwrap();
        sheet.write(1, 1, "A1").unwrap();
        sheet.write(1, 2, "x").unwrap();
        sheet.write(1, 3, "many").unwrap();
        sheet.write(2, 1, "A1").unwrap();
        sheet.write(2, 2, "x").unwrap();
        sheet.write(2, 3, 1.0).unwrap();
        let err = read_workbook(&book.save_to_buffer().unwrap()).unwrap_err().to_string();
        assert!(err.contains("2027-03!D2: `many` is text, not a number"), "{err}");
        assert!(err.contains("2027-03!A3: 单位编号 is missing"), "{err}");

        let mut book = rust_xlsxwriter::Workbook::new();
        book.add_worksheet().set_name("entries").unwrap();
        let err = read_workbook(&book.save_to_buffer().unwrap()).unwrap_err().to_string();
        assert!(err.contains("not named after a month"), "{err}");
    }

    #[test]
    fn admin_url_names_the_new_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "jx_bench_1_2"),
            "postgres://postgres@127.0.0.1:5432/jx_bench_1_2"
        );
        assert_eq!(with_database("postgres://h/test?sslmode=disable", "d"), "postgres://h/d?sslmode=disable");
        assert!(Target::parse("mysql://x").is_err());
        assert_eq!(Target::parse("sqlite://data/jixiao.db").unwrap().backend(), Backend::Sqlite);
        assert_eq!(Target::parse("postgres").unwrap().backend(), Backend::Postgres);
    }

    #[test]
    fn small_runs_on_sqlite() {
        for earlier_months in [false, true] {
            run(ImportArgs {
                units: 6,
                indicators: 8,
                month: Some("2027-06".into()),
                runs: 2,
                seed: 1,
                bare_batches: vec![1000, 7],
                earlier_months,
                xlsx_first: earlier_months,
                database: "sqlite".into(),
            })
            .unwrap();
        }
    }
}
