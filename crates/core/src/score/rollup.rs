//! From indicator scores to category scores, totals, ranks and grades (spec §6–§7).

use crate::round::round2;
use crate::scheme::{Kind, Scheme};

use super::{PeriodResult, Plan, Status};

/// Recomputes a unit's category scores and its total from its indicator scores.
pub(crate) fn roll_up_unit(scheme: &Scheme, plan: &Plan, unit: usize, out: &mut PeriodResult) {
    // Categories: round2 of the sum of the rounded scores of the assigned
    // indicators below, in tree order. A category with none is not shown.
    for (node, n) in scheme.nodes.iter().enumerate() {
        if !n.is_category() {
            continue;
        }
        let mut any = false;
        let mut sum = 0.0;
        for &ind in &plan.below[node] {
            if let Some(s) = out.score_of_indicator(unit, ind) {
                sum += s;
                any = true;
            }
        }
        out.set(unit, node, if any { round2(sum) } else { f64::NAN }, Status::Unassigned);
    }

    let (mut regular, mut bonus, mut deduction) = (0.0, 0.0, 0.0);
    for &root in &scheme.roots {
        let Some(score) = out.score(unit, root) else { continue };
        let node = &scheme.nodes[root];
        match node.kind {
            Kind::Regular => regular += score,
            Kind::Bonus | Kind::Deduction => {
                let capped = round2(node.cap.map_or(score, |cap| score.min(cap)));
                let i = unit * out.nodes + root;
                out.scores[i] = capped;
                if node.kind == Kind::Bonus {
                    bonus += capped;
                } else {
                    deduction += capped;
                }
            }
        }
    }
    if let Some(target) = scheme.normalize_to {
        // A: full marks of the regular indicators that are not pending.
        let mut attainable = 0.0;
        for &root in scheme.roots.iter().filter(|&&r| scheme.nodes[r].kind == Kind::Regular) {
            for &ind in &plan.below[root] {
                let status = out.status(unit, ind);
                if status != Status::Unassigned && status != Status::Pending {
                    attainable += scheme.nodes[ind].points.unwrap_or(0.0);
                }
            }
        }
        regular = if attainable == 0.0 { 0.0 } else { round2((regular / attainable) * target) };
    }
    let total = round2((regular + bonus) - deduction);
    let t = &mut out.totals[unit];
    t.regular = regular;
    t.bonus = bonus;
    t.deduction = deduction;
    t.total = if total == 0.0 { 0.0 } else { total };
}

/// Ranks a group's units by total (ties share the smaller rank) and grades them.
pub(crate) fn rank_group(scheme: &Scheme, plan: &Plan, group: usize, out: &mut PeriodResult) {
    let members = &plan.group_units[group];
    let mut totals: Vec<f64> = members.iter().map(|&u| out.totals[u].total).collect();
    totals.sort_by(|a, b| b.total_cmp(a));
    for &unit in members {
        let total = out.totals[unit].total;
        let rank = 1 + totals.partition_point(|&t| t > total);
        let grade = scheme
            .grades
            .iter()
            .position(|g| g.min_score.is_none_or(|min| total >= min) && g.quota.is_none_or(|q| (rank as u128) <= q.places(members.len())));
        out.totals[unit].rank = rank;
        out.totals[unit].grade = grade;
    }
}

impl PeriodResult {
    /// An indicator's score if the unit is assigned it (whatever its status).
    fn score_of_indicator(&self, unit: usize, node: usize) -> Option<f64> {
        (self.status(unit, node) != Status::Unassigned).then(|| self.scores[unit * self.nodes + node])
    }
}
