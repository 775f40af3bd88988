//! Values written for people, the same on every page, export and message: numbers,
//! periods, why a warning light is lit — and values written into links.

use jixiao_core::lights::{Lit, Why};
use jixiao_core::period::Period;

use crate::i18n::Tr;

/// A number as pages show values and params: up to 4 decimals, no trailing zeros
/// (scores themselves are already rounded to 2 by the engine).
pub fn number(x: f64) -> String {
    let r = jixiao_core::round::round_half_away(x, 4);
    if r == r.trunc() && r.abs() < 1e15 { format!("{}", r as i64) } else { format!("{r}") }
}

/// `2027-03` → 2027年3月 / March 2027, and so on for quarters and years.
pub fn period_label(tr: &Tr, period: &str) -> String {
    match period.parse::<Period>() {
        Ok(Period::Month(m)) => tr.f("bulletin.period_month", &[&m.year, &m.month]),
        Ok(Period::Quarter { year, quarter }) => tr.f("bulletin.period_quarter", &[&year, &quarter]),
        Ok(Period::Year(year)) => tr.f("bulletin.period_year", &[&year]),
        Err(_) => period.to_string(),
    }
}

/// Why a light is lit, in words.
pub fn why_text(tr: &Tr, lit: &Lit) -> String {
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    match &lit.why {
        Why::Error { message } => tr.f("lights.error", &[message]),
        Why::Missing => tr.t("lights.missing").to_string(),
        Why::Pending => tr.t("lights.pending").to_string(),
        Why::NoPoints => tr.t("lights.no_points").to_string(),
        Why::Deducted { score } => tr.f("lights.deducted", &[&number(*score)]),
        Why::Late => tr.t("lights.late").to_string(),
        Why::Pace { pace, threshold } => tr.f("lights.pace", &[&pct(*pace), &pct(*threshold)]),
        Why::OnPace { pace } => tr.f("lights.on_pace", &[&pct(*pace)]),
        Why::RedIndicators { count, threshold } => tr.f("lights.red_indicators", &[count, threshold]),
        Why::UnitPace { pace, threshold } => tr.f("lights.unit_pace", &[&pct(*pace), &pct(*threshold)]),
        Why::UnitOnPace { pace, .. } => tr.f("lights.unit_on_pace", &[&pct(*pace)]),
    }
}

/// Percent-encodes a value for a URL's query.
pub fn url_encode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)]).map(|s| s.trim_start_matches('=').to_string()).unwrap_or_default()
}

/// A stored JSON value as a form shows it (numbers as `number`, booleans as 1/0).
pub fn json_text(v: Option<&serde_json::Value>) -> String {
    use serde_json::Value;
    match v {
        Some(Value::Number(n)) => n.as_f64().map(number).unwrap_or_default(),
        Some(Value::Bool(b)) => if *b { "1" } else { "0" }.to_string(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}
