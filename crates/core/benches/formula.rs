//! Formula compile and evaluation throughput on realistic assessment formulas.
//!
//! `cargo bench -p jixiao-core --bench formula`. Throughput is reported in
//! elements per second: formulas compiled, or evaluations (one unit, one period).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jixiao_core::formula::{EvalError, Formula, PeerSet};

const VARS: &[&str] =
    &["actual", "target", "points", "progress", "month", "rate", "complaints", "目标值", "完成值", "record_points", "record_count"];

const FORMULAS: &[(&str, &str)] = &[
    ("ratio", "min(actual / (target * progress), 1.2) / 1.2 * points"),
    ("tier", "tier(actual / target, 1.2, points, 1, points * 0.8, 0.8, points * 0.6, 0.5, points * 0.3, 0)"),
    (
        "if",
        "if(actual >= target * progress, points, \
         if(actual > 0, round(points * actual / (target * progress), 2), 0))",
    ),
    ("deduction", "clamp(complaints * 0.5 + max(0, 3 - rate) * 2, 0, points)"),
    ("chinese", "safe_div(完成值, 目标值, 0) * points"),
    ("records", "record_points + record_count * 0.5"),
    ("peer", "actual / group_max(actual) * points * 0.7 + if(group_rank(actual) <= 3, points * 0.3, 0)"),
];

/// One unit's slots for `f`, taken from a fixed assignment of values to names.
fn slots(f: &Formula, unit: usize) -> Vec<f64> {
    let u = unit as f64;
    f.variables()
        .iter()
        .map(|v| match v.as_str() {
            "actual" => 30.0 + u * 1.7,
            "target" => 100.0,
            "points" => 10.0,
            "progress" => 0.25,
            "month" => 3.0,
            "rate" => 2.5,
            "complaints" => 1.0 + u % 3.0,
            "目标值" => 50.0,
            "完成值" => 40.0 + u,
            "record_points" => 2.0,
            _ => 3.0,
        })
        .collect()
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    g.throughput(Throughput::Elements(FORMULAS.len() as u64));
    g.bench_function("all_formulas", |b| {
        b.iter(|| {
            for (_, src) in FORMULAS {
                black_box(Formula::compile(black_box(src), VARS).ok());
            }
        })
    });
    g.finish();
}

fn eval(c: &mut Criterion) {
    let mut g = c.benchmark_group("eval");
    g.throughput(Throughput::Elements(1));
    for (name, src) in FORMULAS {
        let f = Formula::compile(src, VARS).expect("benchmark formulas compile");
        // A group of 80 units, the size of a district's departments.
        let units: Vec<Vec<f64>> = (0..80).map(|u| slots(&f, u)).collect();
        let peers: Vec<Result<PeerSet, EvalError>> = (0..f.peer_sites())
            .map(|k| {
                let values: Result<Vec<f64>, EvalError> = units.iter().map(|s| f.eval_peer_arg(k, s)).collect();
                values.map(PeerSet::new)
            })
            .collect();
        let me = &units[17];
        g.bench_function(*name, |b| b.iter(|| black_box(f.eval(black_box(me), &peers))));
    }
    g.finish();

    // What the engine does per peer indicator and period: prepare, then evaluate all.
    let f = Formula::compile(FORMULAS[6].1, VARS).expect("peer formula compiles");
    let units: Vec<Vec<f64>> = (0..80).map(|u| slots(&f, u)).collect();
    let mut g = c.benchmark_group("peer_group_of_80");
    g.throughput(Throughput::Elements(units.len() as u64));
    g.bench_function("prepare_and_eval_all", |b| {
        b.iter(|| {
            let peers: Vec<Result<PeerSet, EvalError>> = (0..f.peer_sites())
                .map(|k| {
                    let values: Result<Vec<f64>, EvalError> = units.iter().map(|s| f.eval_peer_arg(k, s)).collect();
                    values.map(PeerSet::new)
                })
                .collect();
            for s in &units {
                black_box(f.eval(s, &peers).ok());
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = compile, eval
}
criterion_main!(benches);
