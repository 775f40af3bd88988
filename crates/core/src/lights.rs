//! Warning lights (警示灯): green, yellow or red for each unit's indicator of a period,
//! and rolled up per unit, each with the rule that lit it.
//!
//! The pace of an indicator is its score as a share of its points. Formulas measure
//! against the time-scaled target (`progress`, spec §5), so the share is progress
//! against the time elapsed in the year: 0.9 in March means nine tenths of where the
//! unit should be by March. Thresholds come from the scheme (`"lights": {"yellow":
//! 0.75, "red": 0.6, "red_count": 3}`, jixiao's extension of spec §2) or these
//! defaults; a pace exactly at a threshold is the better colour.
//!
//! An indicator:
//! - red: its computation failed (error), its data is missing, or pace < `red`;
//! - yellow: pace < `yellow`, or the month was reported late; a deduction indicator
//!   with a deduction;
//! - none (grey): not due in the period (pending), or a bonus indicator; also a bonus
//!   or deduction indicator the system fills (`filled_by`) while it has nothing to
//!   count (missing).
//!
//! A unit, over its regular indicators: red when its overall pace (sum of scores ÷
//! sum of points of the indicators due) is below `red`, or at least `red_count` of
//! them are red; yellow when the overall pace is below `yellow` or any is red;
//! green otherwise.

use serde::{Deserialize, Serialize};

use crate::scheme::Kind;

/// The thresholds of a scheme.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LightRule {
    #[serde(default = "default_yellow")]
    pub yellow: f64,
    #[serde(default = "default_red")]
    pub red: f64,
    #[serde(default = "default_red_count")]
    pub red_count: usize,
}

fn default_yellow() -> f64 {
    0.75
}
fn default_red() -> f64 {
    0.6
}
fn default_red_count() -> usize {
    3
}

impl Default for LightRule {
    fn default() -> LightRule {
        LightRule { yellow: default_yellow(), red: default_red(), red_count: default_red_count() }
    }
}

impl LightRule {
    /// The problems of a rule written in a scheme.
    pub fn check(&self) -> Result<(), String> {
        let share = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        if !(share(self.yellow) && share(self.red)) {
            return Err("lights: yellow and red are shares of the points, between 0 and 1".into());
        }
        if self.red > self.yellow {
            return Err(format!("lights: red ({}) is above yellow ({})", self.red, self.yellow));
        }
        if self.red_count == 0 {
            return Err("lights: red_count must be at least 1".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Light {
    /// No light: nothing to judge.
    None,
    Green,
    Yellow,
    Red,
}

impl Light {
    pub fn as_str(self) -> &'static str {
        match self {
            Light::None => "none",
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }
}

/// The rule that lit a light, with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Why {
    Error { message: String },
    Missing,
    Pending,
    NoPoints,
    Deducted { score: f64 },
    Late,
    Pace { pace: f64, threshold: f64 },
    OnPace { pace: f64 },
    RedIndicators { count: usize, threshold: usize },
    UnitPace { pace: f64, threshold: f64 },
    UnitOnPace { pace: f64, reds: usize },
}

/// A light and why it is lit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lit {
    pub light: Light,
    pub why: Why,
}

/// What an indicator's light is judged on: its result for the period (spec §8
/// status and score) and whether the unit's report of the month came late.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorResult<'a> {
    pub kind: Kind,
    /// `ok`, `missing`, `pending` or `error`.
    pub status: &'a str,
    pub score: f64,
    pub points: Option<f64>,
    pub late: bool,
}

/// The light of one indicator.
pub fn indicator_light(rule: &LightRule, r: IndicatorResult<'_>, error: Option<&str>) -> Lit {
    let lit = |light, why| Lit { light, why };
    match r.status {
        "error" => return lit(Light::Red, Why::Error { message: error.unwrap_or_default().to_string() }),
        "missing" => return lit(Light::Red, Why::Missing),
        "pending" => return lit(Light::None, Why::Pending),
        _ => {}
    }
    match r.kind {
        Kind::Deduction if r.score > 0.0 => return lit(Light::Yellow, Why::Deducted { score: r.score }),
        Kind::Deduction | Kind::Bonus => return lit(Light::None, Why::NoPoints),
        Kind::Regular => {}
    }
    let Some(points) = r.points.filter(|p| *p > 0.0) else { return lit(Light::None, Why::NoPoints) };
    let pace = r.score / points;
    if pace < rule.red {
        lit(Light::Red, Why::Pace { pace, threshold: rule.red })
    } else if pace < rule.yellow {
        lit(Light::Yellow, Why::Pace { pace, threshold: rule.yellow })
    } else if r.late {
        lit(Light::Yellow, Why::Late)
    } else {
        lit(Light::Green, Why::OnPace { pace })
    }
}

/// The light of a unit from its regular indicators' results and lights.
pub fn unit_light(rule: &LightRule, indicators: &[(IndicatorResult<'_>, &Lit)]) -> Lit {
    let due: Vec<_> = indicators.iter().filter(|(r, _)| r.kind == Kind::Regular && r.status != "pending").collect();
    let points: f64 = due.iter().filter_map(|(r, _)| r.points).sum();
    let scored: f64 = due.iter().map(|(r, _)| r.score).sum();
    let reds = due.iter().filter(|(_, l)| l.light == Light::Red).count();
    if points <= 0.0 {
        return Lit { light: Light::None, why: Why::Pending };
    }
    let pace = scored / points;
    if pace < rule.red {
        Lit { light: Light::Red, why: Why::UnitPace { pace, threshold: rule.red } }
    } else if reds >= rule.red_count {
        Lit { light: Light::Red, why: Why::RedIndicators { count: reds, threshold: rule.red_count } }
    } else if pace < rule.yellow {
        Lit { light: Light::Yellow, why: Why::UnitPace { pace, threshold: rule.yellow } }
    } else if reds > 0 {
        Lit { light: Light::Yellow, why: Why::RedIndicators { count: reds, threshold: rule.red_count } }
    } else {
        Lit { light: Light::Green, why: Why::UnitOnPace { pace, reds } }
    }
}

/// Every indicator's light (by node index) and the unit's light, from a unit's spec
/// §8 result (its `scores`, `status` and `errors` maps) and whether its report of
/// the month came late. Pages, the API and the analysis report all light this way.
pub fn of_unit(
    scheme: &crate::scheme::Scheme,
    scores: &serde_json::Map<String, serde_json::Value>,
    status: &serde_json::Map<String, serde_json::Value>,
    errors: &serde_json::Map<String, serde_json::Value>,
    late: bool,
) -> (Vec<(usize, Lit)>, Lit) {
    let rule = scheme.file.lights.unwrap_or_default();
    let mut results = Vec::new();
    for &n in &scheme.indicators {
        let node = &scheme.nodes[n];
        let Some(st) = status.get(&node.id).and_then(|v| v.as_str()) else { continue };
        let r = IndicatorResult {
            kind: node.kind,
            status: st,
            score: scores.get(&node.id).and_then(|v| v.as_f64()).unwrap_or(0.0),
            points: node.points,
            late,
        };
        // A bonus or deduction the system fills (`filled_by`) is missing when there was
        // nothing to count (no requests, no supervision tasks): nothing to warn about.
        let nothing_to_count = st == "missing" && node.kind != Kind::Regular && node.indicator.as_ref().is_some_and(|i| i.system_filled());
        let lit = if nothing_to_count {
            Lit { light: Light::None, why: Why::NoPoints }
        } else {
            indicator_light(&rule, r, errors.get(&node.id).and_then(|v| v.as_str()))
        };
        results.push((n, r, lit));
    }
    let pairs: Vec<_> = results.iter().map(|(_, r, l)| (*r, l)).collect();
    let unit = unit_light(&rule, &pairs);
    (results.into_iter().map(|(n, _, l)| (n, l)).collect(), unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regular(status: &str, score: f64, late: bool) -> IndicatorResult<'_> {
        IndicatorResult { kind: Kind::Regular, status, score, points: Some(10.0), late }
    }

    #[test]
    fn indicator_lights_at_their_thresholds() {
        let rule = LightRule::default();
        let light = |r| indicator_light(&rule, r, Some("division by zero")).light;
        // 10 points: red below 6, yellow below 7.5, a pace exactly at a threshold is the better colour.
        assert_eq!(light(regular("ok", 5.99, false)), Light::Red);
        assert_eq!(light(regular("ok", 6.0, false)), Light::Yellow);
        assert_eq!(light(regular("ok", 7.49, false)), Light::Yellow);
        assert_eq!(light(regular("ok", 7.5, false)), Light::Green);
        assert_eq!(light(regular("ok", 10.0, true)), Light::Yellow, "reported late");
        assert_eq!(light(regular("missing", 0.0, false)), Light::Red);
        assert_eq!(light(regular("pending", 0.0, false)), Light::None);
        let error = indicator_light(&rule, regular("error", 0.0, false), Some("division by zero"));
        assert_eq!(error, Lit { light: Light::Red, why: Why::Error { message: "division by zero".into() } });
        let deduction = IndicatorResult { kind: Kind::Deduction, status: "ok", score: 1.5, points: Some(3.0), late: false };
        assert_eq!(light(deduction), Light::Yellow);
        assert_eq!(light(IndicatorResult { score: 0.0, ..deduction }), Light::None);
        assert_eq!(light(IndicatorResult { kind: Kind::Bonus, ..deduction }), Light::None);
        assert_eq!(indicator_light(&rule, regular("ok", 7.0, false), None).why, Why::Pace { pace: 0.7, threshold: 0.75 });
    }

    #[test]
    fn unit_lights_roll_up() {
        let rule = LightRule { yellow: 0.8, red: 0.6, red_count: 2 };
        let unit = |results: &[IndicatorResult<'_>]| {
            let lits: Vec<Lit> = results.iter().map(|r| indicator_light(&rule, *r, None)).collect();
            let pairs: Vec<_> = results.iter().copied().zip(lits.iter()).collect();
            unit_light(&rule, &pairs)
        };
        assert_eq!(unit(&[regular("ok", 9.0, false), regular("ok", 9.0, false)]).light, Light::Green);
        // One red indicator among good ones: yellow; two: red.
        let one_red = unit(&[
            regular("ok", 10.0, false),
            regular("ok", 10.0, false),
            regular("missing", 0.0, false),
            regular("ok", 10.0, false),
            regular("ok", 10.0, false),
            regular("ok", 10.0, false),
        ]);
        assert_eq!(one_red, Lit { light: Light::Yellow, why: Why::RedIndicators { count: 1, threshold: 2 } });
        let two_red = unit(&[
            regular("ok", 10.0, false),
            regular("ok", 10.0, false),
            regular("ok", 10.0, false),
            regular("ok", 10.0, false),
            regular("missing", 0.0, false),
            regular("ok", 5.0, false),
        ]);
        assert_eq!(two_red.light, Light::Red);
        // Overall pace exactly 0.8 is green, just under is yellow, under 0.6 red.
        assert_eq!(unit(&[regular("ok", 8.0, false), regular("ok", 8.0, false)]).light, Light::Green);
        assert_eq!(unit(&[regular("ok", 7.9, false), regular("ok", 8.0, false)]).light, Light::Yellow);
        assert_eq!(unit(&[regular("ok", 6.5, false), regular("ok", 5.4, false)]).why, Why::UnitPace { pace: 0.595, threshold: 0.6 });
        // Pending indicators do not count; nothing due is no light.
        assert_eq!(unit(&[regular("ok", 9.0, false), regular("pending", 0.0, false)]).light, Light::Green);
        assert_eq!(unit(&[regular("pending", 0.0, false)]).light, Light::None);
    }

    #[test]
    fn rules_are_checked() {
        assert!(LightRule::default().check().is_ok());
        assert!(LightRule { red: 0.9, ..LightRule::default() }.check().is_err());
        assert!(LightRule { yellow: 1.5, ..LightRule::default() }.check().is_err());
        assert!(LightRule { red_count: 0, ..LightRule::default() }.check().is_err());
        let parsed: LightRule = serde_json::from_str(r#"{"yellow": 0.9}"#).unwrap();
        assert_eq!(parsed, LightRule { yellow: 0.9, red: 0.6, red_count: 3 });
    }

    #[test]
    fn a_system_filled_bonus_with_nothing_to_count_is_not_lit() {
        let scheme = crate::scheme::Scheme::from_file(
            serde_json::from_value(serde_json::json!({
                "year": 2027, "name": "t", "groups": [{"id": "g", "name": "g"}], "units": [{"id": "u", "name": "u", "group": "g"}],
                "tree": [
                    {"id": "A", "name": "a", "points": 10, "children": [
                        {"id": "A1", "name": "a1", "points": 10, "fields": [{"key": "x"}], "formula": "x", "assign": [{"group": "g"}]}]},
                    {"id": "W", "name": "w", "kind": "bonus", "children": [
                        {"id": "W1", "name": "w1", "filled_by": "supervision", "fields": [{"key": "evaluation"}],
                         "formula": "evaluation / 100", "assign": [{"group": "g"}]},
                        {"id": "W2", "name": "w2", "fields": [{"key": "y"}], "formula": "y", "assign": [{"group": "g"}]}]}
                ]
            }))
            .unwrap(),
        )
        .unwrap();
        let map = |v: serde_json::Value| v.as_object().unwrap().clone();
        let status = map(serde_json::json!({"A1": "missing", "W1": "missing", "W2": "missing"}));
        let scores = map(serde_json::json!({"A1": 0, "W1": 0, "W2": 0}));
        let (lights, _) = of_unit(&scheme, &scores, &status, &serde_json::Map::new(), false);
        let light = |id: &str| lights.iter().find(|(n, _)| scheme.nodes[*n].id == id).unwrap().1.light;
        assert_eq!(light("A1"), Light::Red, "a unit's own report missing");
        assert_eq!(light("W1"), Light::None, "no supervision task to count");
        assert_eq!(light("W2"), Light::Red, "a bonus people report, missing");
    }
}
