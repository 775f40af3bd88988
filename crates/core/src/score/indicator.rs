//! One indicator for a set of units in one period (spec §5): the window, due
//! months, the formula's inputs, peer sets, evaluation, clamping and rounding.

use crate::data::Dataset;
use crate::formula::{EvalError, PeerSet};
use crate::period::Period;
use crate::round::round2;
use crate::scheme::{Aggregation, Indicator, Scheme, Slot, Window};

use super::{PeriodResult, Status};

/// The months an indicator reads in a period, and whether any of them is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MonthWindow {
    pub first: u8,
    pub last: u8,
    pub due: bool,
}

pub(crate) fn window(indicator: &Indicator, period: Period) -> MonthWindow {
    let (period_first, last) = period.month_range();
    let first = match indicator.window {
        Window::Ytd => 1,
        Window::Period => period_first,
    };
    let due = (first..=last).any(|m| indicator.is_due(m));
    MonthWindow { first, last, due }
}

/// Buffers reused across indicators so scoring does not allocate per unit.
#[derive(Default)]
pub(crate) struct Scratch {
    slots: Vec<f64>,
    complete: Vec<usize>,
    peers: Vec<Result<PeerSet, EvalError>>,
    by_group: Vec<Vec<usize>>,
}

/// Fills `slots` with one unit's inputs; false if a referenced field has no
/// value in the window (status `missing`).
pub(crate) fn gather_inputs(
    scheme: &Scheme,
    data: &Dataset,
    node: usize,
    unit: usize,
    period: Period,
    win: MonthWindow,
    slots: &mut [f64],
) -> bool {
    let indicator = scheme.nodes[node].indicator.as_ref().expect("an indicator node");
    let params = indicator.assignments[unit].as_deref().unwrap_or_default();
    for (slot, value) in indicator.slots.iter().zip(slots.iter_mut()) {
        *value = match *slot {
            Slot::Field(f) => {
                match aggregate(indicator.fields[f].agg, (win.first..=win.last).filter_map(|m| data.value(node, unit, m, f))) {
                    Some(v) => v,
                    None => return false,
                }
            }
            Slot::Param(p) => params.get(p).copied().flatten().unwrap_or(f64::NAN),
            Slot::Points => scheme.nodes[node].points.unwrap_or(0.0),
            Slot::Progress => period.progress(),
            Slot::Month => f64::from(period.end_month()),
            Slot::RecordPoints => in_window(data, node, unit, win).fold(0.0, |sum, r| sum + r.points),
            Slot::RecordCount => in_window(data, node, unit, win).count() as f64,
        };
    }
    true
}

fn in_window(data: &Dataset, node: usize, unit: usize, win: MonthWindow) -> impl Iterator<Item = &crate::data::Record> {
    data.records(node, unit).iter().filter(move |r| (win.first..=win.last).contains(&r.month()))
}

/// Aggregates values given in ascending month order; `None` if there are none.
pub(crate) fn aggregate(agg: Aggregation, values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut count = 0usize;
    let mut acc = 0.0;
    for v in values {
        acc = if count == 0 {
            v
        } else {
            match agg {
                Aggregation::Last => v,
                Aggregation::Sum | Aggregation::Avg => acc + v,
                Aggregation::Max => acc.max(v),
                Aggregation::Min => acc.min(v),
            }
        };
        count += 1;
    }
    match (count, agg) {
        (0, _) => None,
        (n, Aggregation::Avg) => Some(acc / n as f64),
        _ => Some(acc),
    }
}

/// Clamps a raw formula result to [0, points] and rounds it (spec §5.6).
pub(crate) fn clamp_and_round(raw: f64, points: Option<f64>) -> f64 {
    let mut s = raw.max(0.0);
    if let Some(p) = points {
        s = s.min(p);
    }
    let s = round2(s);
    if s == 0.0 { 0.0 } else { s }
}

/// Scores indicator `node` for the given units (in scheme order). If the formula
/// uses peer functions, `units` must hold whole groups: a peer set is built from
/// the complete units among `units` of each group.
pub(crate) fn score_units(scheme: &Scheme, data: &Dataset, node: usize, units: &[usize], out: &mut PeriodResult, scratch: &mut Scratch) {
    let indicator = scheme.nodes[node].indicator.as_ref().expect("an indicator node");
    let points = scheme.nodes[node].points;
    let win = window(indicator, out.period);
    let width = indicator.slots.len();
    scratch.slots.clear();
    scratch.complete.clear();
    for &unit in units {
        if !indicator.is_assigned(unit) {
            continue;
        }
        // Hashing the key costs more than scoring many a formula: skip it when
        // there is nothing to remove (always in a full recompute without errors).
        if !out.errors.is_empty() {
            out.errors.remove(&(unit, node));
        }
        if !win.due {
            out.set(unit, node, 0.0, Status::Pending);
            continue;
        }
        let start = scratch.slots.len();
        scratch.slots.resize(start + width, 0.0);
        if gather_inputs(scheme, data, node, unit, out.period, win, &mut scratch.slots[start..]) {
            scratch.complete.push(unit);
        } else {
            scratch.slots.truncate(start);
            out.set(unit, node, 0.0, Status::Missing);
        }
    }
    let formula = &indicator.formula;
    let complete = std::mem::take(&mut scratch.complete);
    if !formula.uses_peers() {
        for (i, &unit) in complete.iter().enumerate() {
            let result = formula.eval(&scratch.slots[i * width..(i + 1) * width], &[]);
            record(out, unit, node, points, result);
        }
    } else {
        // Peers are the complete units of the same group, in scheme order.
        scratch.by_group.resize_with(scheme.groups.len(), Vec::new);
        scratch.by_group.iter_mut().for_each(Vec::clear);
        for (i, &unit) in complete.iter().enumerate() {
            scratch.by_group[scheme.units[unit].group].push(i);
        }
        for members in &scratch.by_group {
            if members.is_empty() {
                continue;
            }
            let peer_slots = |i: usize| &scratch.slots[i * width..(i + 1) * width];
            scratch.peers.clear();
            for site in 0..formula.peer_sites() {
                let values: Result<Vec<f64>, EvalError> = members.iter().map(|&i| formula.eval_peer_arg(site, peer_slots(i))).collect();
                scratch.peers.push(values.map(PeerSet::new));
            }
            for &i in members {
                let result = formula.eval(peer_slots(i), &scratch.peers);
                record(out, complete[i], node, points, result);
            }
        }
    }
    scratch.complete = complete;
}

fn record(out: &mut PeriodResult, unit: usize, node: usize, points: Option<f64>, result: Result<f64, EvalError>) {
    match result {
        Ok(raw) => out.set(unit, node, clamp_and_round(raw, points), Status::Ok),
        Err(e) => {
            out.set(unit, node, 0.0, Status::Error);
            out.errors.insert((unit, node), e.to_string());
        }
    }
}
