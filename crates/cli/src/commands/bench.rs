//! `jixiao bench`: benchmarks that need a whole generated province or district,
//! with their baseline measured in the same run (BENCHMARKS.md records results).

mod import;
mod visible;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jixiao_core::data::{Dataset, EntryRow, validate_entry};
use jixiao_core::generate::{demo_district, synthetic};
use jixiao_core::period::Period;
use jixiao_core::scheme::Scheme;
use jixiao_core::score::{PeriodResult, Scoreboard, score_periods};

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Full recompute of all 17 periods of a synthetic province, against a floor
    /// that only sums every input value.
    Scoring {
        #[arg(long, default_value_t = 2000)]
        units: usize,
        #[arg(long, default_value_t = 300)]
        indicators: usize,
        /// Timed repetitions (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// One entry changed → incremental recompute, at district scale (the demo district).
    Incremental {
        /// Number of random edits timed.
        #[arg(long, default_value_t = 1000)]
        edits: usize,
    },
    /// Edit → visible at district scale: after the office accepts a reporter's change
    /// (over the JSON API of a served demo district on SQLite), the time until the
    /// API returns the unit's new total.
    Visible {
        /// Number of edits timed.
        #[arg(long, default_value_t = 1000)]
        edits: usize,
    },
    /// Import of one month of a synthetic province from JSON and from xlsx, with the
    /// recompute, against a bare bulk insert of the same rows (fresh databases).
    Import(import::ImportArgs),
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Scoring { units, indicators, runs, seed } => scoring(units, indicators, runs.max(1), seed),
        BenchCommand::Incremental { edits } => incremental(edits.max(1)),
        BenchCommand::Import(args) => import::run(args),
        BenchCommand::Visible { edits } => {
            sqlx::any::install_default_drivers();
            tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(visible::run(edits.max(1)))
        }
    }
}

fn scoring(units: usize, indicators: usize, runs: usize, seed: u64) -> anyhow::Result<()> {
    println!("jixiao bench scoring: {units} units × {indicators} indicators, 17 periods, {runs} runs");
    let t = Instant::now();
    let (scheme_file, data_file) = synthetic(units, indicators, seed);
    let generated = t.elapsed();
    let entries = data_file.entries.len();
    let records = data_file.records.len();
    let t = Instant::now();
    let scheme = Scheme::from_file(scheme_file)?;
    let data = Dataset::load(&scheme, &data_file)?;
    let loaded = t.elapsed();
    drop(data_file);
    let input_bytes = data.heap_bytes();
    let (values, _) = data.sum_values();
    reset_peak_rss();
    let rss_before = rss_kib("VmRSS");

    let floor = median((0..runs.max(5)).map(|_| timed(|| black_box(data.sum_values()))).collect());
    let periods = Period::all_in_year(scheme.year);
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let full = median((0..runs).map(|_| single.install(|| timed(|| black_box(score_periods(&scheme, &data, &periods))))).collect());
    let peak = rss_kib("VmHWM");
    let threads = rayon::current_num_threads();
    let parallel = median((0..runs).map(|_| timed(|| black_box(score_periods(&scheme, &data, &periods)))).collect());
    let result_bytes: usize = score_periods(&scheme, &data, &periods).iter().map(PeriodResult::heap_bytes).sum();

    println!("  generate          {:>10.1} ms  ({entries} entries, {records} records)", ms(generated));
    println!("  validate + load   {:>10.1} ms", ms(loaded));
    println!("  loaded input      {:>10.1} MiB  ({values} values)", input_bytes as f64 / 1048576.0);
    println!("  floor (sum all)   {:>10.2} ms", ms(floor));
    println!("  full recompute    {:>10.1} ms  (17 periods, single thread)", ms(full));
    println!("  ratio to floor    {:>10.1} ×", full.as_secs_f64() / floor.as_secs_f64());
    println!("  {threads} threads         {:>10.1} ms  (speed-up {:.2} ×)", ms(parallel), full.as_secs_f64() / parallel.as_secs_f64());
    println!("  entries / s       {:>10.0}", entries as f64 / full.as_secs_f64());
    println!("  unit-indicator-periods / s {:>10.0}", (units * scheme.indicators.len() * 17) as f64 / full.as_secs_f64());
    if let (Some(before), Some(peak)) = (rss_before, peak) {
        println!("  RSS before scoring {:>9.1} MiB", before as f64 / 1024.0);
        println!(
            "  peak RSS (1 thread) {:>8.1} MiB  ({:.2} × loaded input)",
            peak as f64 / 1024.0,
            peak as f64 * 1024.0 / input_bytes as f64
        );
        // The RSS before scoring includes the pages the allocator kept from the
        // generated rows after they were dropped; what scoring adds is measured apart.
        let added = peak.saturating_sub(before) as usize * 1024;
        println!(
            "  scoring adds      {:>10.1} MiB  (input + that: {:.2} × loaded input)",
            added as f64 / 1048576.0,
            (input_bytes + added) as f64 / input_bytes as f64
        );
    }
    println!("  results held      {:>10.1} MiB  (17 periods, computed size)", result_bytes as f64 / 1048576.0);
    Ok(())
}

fn incremental(edits: usize) -> anyhow::Result<()> {
    let (scheme_file, data_file) = demo_district(2027, 12, 2027);
    let scheme = Arc::new(Scheme::from_file(scheme_file)?);
    let data = Dataset::load(&scheme, &data_file)?;
    println!(
        "jixiao bench incremental: demo district, {} units × {} indicators, {} entries, {edits} edits",
        scheme.units.len(),
        scheme.indicators.len(),
        data_file.entries.len()
    );
    let t = Instant::now();
    let mut board = Scoreboard::new(scheme.clone(), data);
    let full = t.elapsed();
    // Replay existing entries with a changed value, spread over units, indicators and months.
    let mut times = Vec::with_capacity(edits);
    for i in 0..edits {
        let row = &data_file.entries[(i * 7919) % data_file.entries.len()];
        let mut values = row.values.clone();
        for v in values.values_mut() {
            if let Some(x) = v.as_f64() {
                *v = serde_json::json!(x.floor());
            }
        }
        let edited = EntryRow { values, ..row.clone() };
        let entry = validate_entry(&scheme, &edited).map_err(anyhow::Error::msg)?;
        let t = Instant::now();
        black_box(board.set_entry(&entry));
        times.push(t.elapsed());
    }
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!("  full recompute (17 periods) {:>8.2} ms", ms(full));
    println!("  incremental median          {:>8.3} ms", ms(pct(0.5)));
    println!("  incremental p99             {:>8.3} ms", ms(pct(0.99)));
    println!("  incremental max             {:>8.3} ms", ms(pct(1.0)));
    Ok(())
}

fn timed<T>(f: impl FnOnce() -> T) -> Duration {
    let t = Instant::now();
    drop(f());
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A field of /proc/self/status in KiB (Linux); `None` elsewhere.
fn rss_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak RSS so it measures scoring, not generation (Linux ≥ 4.0).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
