//! How one score came about (spec §5, DESIGN §2 "every number drills down"): the
//! formula, each input with the months or records it came from, the params, the
//! raw result, the clamp and the rounding.

use std::fmt;

use serde::Serialize;

use crate::data::Dataset;
use crate::period::{Month, Period};
use crate::scheme::{Aggregation, Scheme, Slot};

use super::indicator::{self, window};
use super::{PeriodResult, Status};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub unit: String,
    pub unit_name: String,
    pub indicator: String,
    pub indicator_name: String,
    pub period: Period,
    pub formula: String,
    /// First and last month the indicator reads in this period.
    pub window: (Month, Month),
    /// Whether any month of the window is due.
    pub due: bool,
    pub status: Status,
    pub inputs: Vec<InputExplanation>,
    /// The formula's result before clamping, when it was evaluated.
    pub raw: Option<f64>,
    pub error: Option<String>,
    pub points: Option<f64>,
    /// The score after clamping to [0, points] and rounding to 2 decimals.
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputExplanation {
    pub name: String,
    /// `field`, `param`, `built-in` or `records`.
    pub kind: &'static str,
    /// The field's display name where it has one.
    pub label: Option<String>,
    pub agg: Option<Aggregation>,
    /// `None` where the field has no value in the window.
    pub value: Option<f64>,
    /// For a field: every month in the window that reported it.
    pub months: Vec<MonthValue>,
    /// For record counts and sums: the records in the window, in file order.
    pub records: Vec<RecordValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthValue {
    pub month: Month,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordValue {
    pub date: String,
    pub points: f64,
    pub note: Option<String>,
}

/// Explains the score of indicator `node` for `unit` in `result`'s period.
/// `None` if the node is not an indicator assigned to the unit.
pub fn explain(scheme: &Scheme, data: &Dataset, result: &PeriodResult, unit: usize, node: usize) -> Option<Explanation> {
    let n = scheme.nodes.get(node)?;
    let ind = n.indicator.as_ref()?;
    if !ind.is_assigned(unit) {
        return None;
    }
    let period = result.period;
    let win = window(ind, period);
    let mut slots = vec![0.0; ind.slots.len()];
    let complete = win.due && indicator::gather_inputs(scheme, data, node, unit, period, win, &mut slots);
    let inputs = ind
        .slots
        .iter()
        .zip(ind.formula.variables())
        .zip(&slots)
        .map(|((slot, name), &value)| {
            let mut input = InputExplanation {
                name: name.clone(),
                kind: "built-in",
                label: None,
                agg: None,
                value: complete.then_some(value),
                months: Vec::new(),
                records: Vec::new(),
            };
            match *slot {
                Slot::Field(f) => {
                    let field = &ind.fields[f];
                    input.kind = "field";
                    input.label = Some(field.name.clone()).filter(|s| !s.is_empty());
                    input.agg = Some(field.agg);
                    input.months = (win.first..=win.last)
                        .filter_map(|m| {
                            data.value(node, unit, m, f).map(|value| MonthValue { month: Month { year: scheme.year, month: m }, value })
                        })
                        .collect();
                    input.value = indicator::aggregate(field.agg, input.months.iter().map(|m| m.value));
                }
                Slot::Param(_) => {
                    input.kind = "param";
                    input.value = Some(value);
                }
                Slot::RecordPoints | Slot::RecordCount => {
                    input.kind = "records";
                    input.records = data
                        .records(node, unit)
                        .iter()
                        .filter(|r| (win.first..=win.last).contains(&r.month()))
                        .map(|r| RecordValue { date: r.date.to_string(), points: r.points, note: r.note.clone() })
                        .collect();
                }
                Slot::Points | Slot::Progress | Slot::Month => input.value = Some(value),
            }
            input
        })
        .collect();
    let status = result.status(unit, node);
    // Re-evaluate only formulas without peers; for peers the stored score is the
    // authority and re-evaluating would need the whole group.
    let raw = (status == Status::Ok && !ind.formula.uses_peers()).then(|| ind.formula.eval(&slots, &[]).ok()).flatten();
    Some(Explanation {
        unit: scheme.units[unit].id.clone(),
        unit_name: scheme.units[unit].name.clone(),
        indicator: n.id.clone(),
        indicator_name: n.name.clone(),
        period,
        formula: ind.formula.source().to_string(),
        window: (Month { year: scheme.year, month: win.first }, Month { year: scheme.year, month: win.last }),
        due: win.due,
        status,
        inputs,
        raw,
        error: result.error(unit, node).map(str::to_string),
        points: n.points,
        score: result.score(unit, node).unwrap_or(0.0),
    })
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {} · {} {} · {}", self.unit, self.unit_name, self.indicator, self.indicator_name, self.period)?;
        writeln!(f, "  formula: {}", self.formula)?;
        writeln!(f, "  window:  {} .. {}{}", self.window.0, self.window.1, if self.due { "" } else { " (no month due)" })?;
        for input in &self.inputs {
            let value = input.value.map_or("— (no value)".to_string(), |v| v.to_string());
            let label = input.label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
            let agg = input
                .agg
                .map(|a| format!(" [{}]", serde_json::to_value(a).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()))
                .unwrap_or_default();
            writeln!(f, "  {} {}{}{} = {}", input.kind, input.name, label, agg, value)?;
            for m in &input.months {
                writeln!(f, "      {}: {}", m.month, m.value)?;
            }
            for r in &input.records {
                writeln!(f, "      {}: {} {}", r.date, r.points, r.note.as_deref().unwrap_or(""))?;
            }
        }
        writeln!(f, "  status:  {}", self.status.as_str())?;
        if let Some(raw) = self.raw {
            writeln!(f, "  result:  {raw}")?;
        }
        if let Some(e) = &self.error {
            writeln!(f, "  error:   {e}")?;
        }
        if let Some(p) = self.points {
            writeln!(f, "  clamped to [0, {p}], rounded to 2 decimals")?;
        }
        write!(f, "  score:   {}", self.score)
    }
}
