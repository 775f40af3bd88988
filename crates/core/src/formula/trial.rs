//! Trying a formula on sample numbers (the formula editor's "try it" panel): compile
//! it with the names given, evaluate it once, and clamp and round the result as an
//! indicator's score is (spec §5 step 6).
//!
//! Peer functions (`group_max(e)`…) are evaluated over a group of one — the sample
//! unit itself — since a trial has no group; the note says so.

use std::collections::BTreeMap;

use super::{CompileError, Formula, PeerSet};
use crate::round::round2;

/// The built-in names a formula may use besides fields and params (spec §4).
pub const BUILTINS: [&str; 5] = ["points", "progress", "month", "record_points", "record_count"];

/// What a trial gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// The canonical text, when it compiles.
    pub canonical: Option<String>,
    pub errors: Vec<CompileError>,
    /// The variables the formula reads, in order of first appearance.
    pub variables: Vec<String>,
    /// The raw result, or the evaluation error.
    pub raw: Option<Result<f64, String>>,
    /// The raw result clamped to [0, points] (when `points` is given) and rounded to
    /// two decimals: the score it would give.
    pub score: Option<f64>,
    /// Set when peer functions were evaluated over a group of one.
    pub peers_of_one: bool,
}

/// Compiles `source` with the names of `inputs` and the built-ins, and evaluates it on
/// `inputs`. A name the formula reads without a value is reported as an evaluation
/// error naming it.
pub fn trial(source: &str, inputs: &BTreeMap<String, f64>) -> Trial {
    let mut names: Vec<&str> = inputs.keys().map(String::as_str).collect();
    for b in BUILTINS {
        if !inputs.contains_key(b) {
            names.push(b);
        }
    }
    let formula = match Formula::compile(source, &names) {
        Ok(f) => f,
        Err(errors) => {
            return Trial { canonical: None, errors, variables: Vec::new(), raw: None, score: None, peers_of_one: false };
        }
    };
    let variables = formula.variables().to_vec();
    let missing: Vec<&String> = variables.iter().filter(|v| !inputs.contains_key(*v)).collect();
    let raw = if !missing.is_empty() {
        Err(format!("no sample value for {}", missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")))
    } else {
        let slots: Vec<f64> = variables.iter().map(|v| inputs[v]).collect();
        let peers: Vec<Result<PeerSet, super::EvalError>> =
            (0..formula.peer_sites()).map(|k| formula.eval_peer_arg(k, &slots).map(|x| PeerSet::new(vec![x]))).collect();
        formula.eval(&slots, &peers).map_err(|e| e.to_string())
    };
    let score = raw.as_ref().ok().map(|&x| {
        let upper = inputs.get("points").copied().unwrap_or(f64::INFINITY);
        round2(x.max(0.0).min(upper))
    });
    Trial { canonical: Some(formula.canonical()), errors: Vec::new(), variables, raw: Some(raw), score, peers_of_one: formula.uses_peers() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn the_spec_example() {
        // Spec §9: u01, 14 / (50 × 0.25) = 1.12; min(1.12, 1.2) / 1.2 × 10 = 9.333… → 9.33.
        let t = trial(
            "min(actual / (target * progress), 1.2) / 1.2 * points",
            &inputs(&[("actual", 14.0), ("target", 50.0), ("progress", 0.25), ("points", 10.0)]),
        );
        assert!(t.errors.is_empty());
        assert_eq!(t.score, Some(9.33));
        assert!((t.raw.clone().unwrap().unwrap() - 9.333_333_333_333_334).abs() < 1e-12);
        assert_eq!(t.variables, ["actual", "target", "progress", "points"]);
    }

    #[test]
    fn clamps_to_points_and_zero() {
        assert_eq!(trial("x * 2", &inputs(&[("x", 8.0), ("points", 10.0)])).score, Some(10.0));
        assert_eq!(trial("x - 5", &inputs(&[("x", 1.0), ("points", 10.0)])).score, Some(0.0));
        assert_eq!(trial("x", &inputs(&[("x", 2.675)])).score, Some(2.68), "round half away on the shortest decimal");
    }

    #[test]
    fn compile_errors_with_position_and_suggestion() {
        let t = trial("actul / target", &inputs(&[("actual", 1.0), ("target", 2.0)]));
        assert_eq!(t.errors.len(), 1);
        let e = &t.errors[0];
        assert_eq!((e.line, e.column), (1, 1));
        assert_eq!(e.suggestion.as_deref(), Some("actual"));
        assert!(t.raw.is_none());
    }

    #[test]
    fn evaluation_errors_and_missing_samples() {
        let t = trial("a / b", &inputs(&[("a", 1.0), ("b", 0.0)]));
        assert!(t.raw.unwrap().unwrap_err().contains("division by zero"));
        let t = trial("a + progress", &inputs(&[("a", 1.0)]));
        assert_eq!(t.raw.unwrap().unwrap_err(), "no sample value for `progress`");
    }

    #[test]
    fn peers_are_a_group_of_one() {
        let t = trial("x / group_max(x) * 10", &inputs(&[("x", 4.0)]));
        assert!(t.peers_of_one);
        assert_eq!(t.score, Some(10.0));
    }
}
