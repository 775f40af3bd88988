//! Compiles arbitrary UTF-8 as a formula and, when it compiles, evaluates it on a few
//! unit values with prepared peer sets. Crashes are panics, stack overflows, timeouts
//! and broken invariants: the canonical text must parse back to the same tree and
//! compile to the same canonical text.

#![no_main]

use jixiao_core::formula::{EvalError, Formula, PeerSet, parse};
use libfuzzer_sys::fuzz_target;

const VARS: &[&str] = &[
    "a", "b", "c", "x", "actual", "target", "points", "progress", "month", "目标值",
    "record_points", "record_count",
];

const FILLS: &[f64] = &[0.0, 1.0, -2.5, 0.1, 1e300, -0.0, 7.0];

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };

    if let Ok(tree) = parse(src) {
        let text = tree.to_string();
        let back = parse(&text).expect("canonical text parses");
        assert_eq!(back, tree, "canonical text {text:?} parses to another tree");
    }

    let Ok(f) = Formula::compile(src, VARS) else { return };
    let again = Formula::compile(&f.canonical(), VARS).expect("canonical text compiles");
    assert_eq!(again.canonical(), f.canonical());
    assert_eq!(again.variables(), f.variables());

    let n = f.variables().len();
    // Three units of a group, with different values per variable.
    let units: Vec<Vec<f64>> = (0..3)
        .map(|u| (0..n).map(|i| FILLS[(i + u * 2) % FILLS.len()]).collect())
        .collect();
    let peers: Vec<Result<PeerSet, EvalError>> = (0..f.peer_sites())
        .map(|k| {
            let values: Result<Vec<f64>, EvalError> =
                units.iter().map(|s| f.eval_peer_arg(k, s)).collect();
            values.map(PeerSet::new)
        })
        .collect();
    for s in &units {
        if let Ok(v) = f.eval(s, &peers) {
            assert!(v.is_finite(), "{src:?} gave {v}");
        }
    }
    // Wrong inputs from the engine are errors, never panics.
    let _ = f.eval(&[], &[]);
    let _ = f.eval(&units[0], &[]);
    let _ = f.eval_peer_arg(f.peer_sites(), &units[0]);
});
