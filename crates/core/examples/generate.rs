//! Prints the generators' output, or measures the synthetic generator.
//!
//! ```text
//! cargo run -p jixiao-core --example generate -- demo-scheme 2027
//! cargo run -p jixiao-core --example generate -- demo-data 2027 6 42
//! cargo run -p jixiao-core --example generate -- synthetic-scheme 100 40 42
//! cargo run -p jixiao-core --example generate -- synthetic-data 100 40 42
//! cargo run --release -p jixiao-core --example generate -- synthetic 2000 300 42
//! ```
//!
//! `synthetic` prints the time taken, the entry and record counts, the heap held
//! by the produced `DataFile` (counted by this program's allocator), and the time
//! and heap of loading it into a `Dataset`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use jixiao_core::data::Dataset;
use jixiao_core::generate::{demo_district, synthetic};
use jixiao_core::scheme::Scheme;

/// Counts the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// A `GlobalAlloc` is unsafe by definition; it only forwards to `System`.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let now = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// CPU seconds used by this process so far (user + system, from /proc; 0 elsewhere),
/// because wall time on a shared machine says little.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; 100 ticks a second.
    (ticks(11) + ticks(12)) / 100.0
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("demo-scheme") => {
            let (scheme, _) = demo_district(arg(1, 2027) as i32, 0, 0);
            println!("{}", serde_json::to_string_pretty(&scheme).unwrap());
        }
        Some("demo-data") => {
            let (_, data) = demo_district(arg(1, 2027) as i32, arg(2, 12) as u8, arg(3, 42));
            println!("{}", serde_json::to_string_pretty(&data).unwrap());
        }
        Some("synthetic-scheme") => {
            let (scheme, _) = synthetic(arg(1, 100) as usize, arg(2, 40) as usize, arg(3, 42));
            println!("{}", serde_json::to_string_pretty(&scheme).unwrap());
        }
        Some("synthetic-data") => {
            let (_, data) = synthetic(arg(1, 100) as usize, arg(2, 40) as usize, arg(3, 42));
            println!("{}", serde_json::to_string_pretty(&data).unwrap());
        }
        Some("synthetic") => {
            let (units, indicators, seed) = (arg(1, 2000) as usize, arg(2, 300) as usize, arg(3, 42));
            let before = LIVE.load(Ordering::Relaxed);
            let (start, cpu) = (Instant::now(), cpu_seconds());
            let (file, data) = synthetic(units, indicators, seed);
            let (took, cpu) = (start.elapsed(), cpu_seconds() - cpu);
            let held = LIVE.load(Ordering::Relaxed) - before;
            println!("synthetic({units}, {indicators}, {seed}): {took:.2?} wall, {cpu:.2} s CPU");
            println!(
                "  {} entries, {} records; scheme + data hold {:.0} MiB (peak while generating {:.0} MiB)",
                data.entries.len(),
                data.records.len(),
                mib(held),
                mib(PEAK.load(Ordering::Relaxed)),
            );
            let (start, cpu) = (Instant::now(), cpu_seconds());
            let scheme = Scheme::from_file(file).expect("valid scheme");
            let dataset = Dataset::load(&scheme, &data).expect("valid data");
            println!(
                "  Scheme::from_file + Dataset::load: {:.2?} wall, {:.2} s CPU; the Dataset holds {:.0} MiB ({} values)",
                start.elapsed(),
                cpu_seconds() - cpu,
                mib(dataset.heap_bytes()),
                dataset.value_count(),
            );
        }
        _ => eprintln!(
            "usage: generate demo-scheme [YEAR] | demo-data [YEAR] [THROUGH_MONTH] [SEED] | synthetic[-scheme|-data] [UNITS] [INDICATORS] [SEED]"
        ),
    }
}
