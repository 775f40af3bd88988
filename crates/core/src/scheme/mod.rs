//! The assessment scheme (考核方案) of one year, validated (spec §2).
//!
//! `Scheme::from_json` parses a scheme file, checks every rule of spec §2, compiles
//! every formula, and either returns a `Scheme` ready for scoring or a
//! `SchemeError` listing *all* problems, each naming where it is. A `Scheme` is
//! immutable; amending a year's scheme makes a new one (a new version in the store).

pub mod diff;
pub mod edit;
mod file;

use std::collections::{HashMap, HashSet};
use std::fmt;

pub use file::{
    Aggregation, AssignRule, FieldDef, FieldType, Frequency, GradeDef, GroupDef, Kind, NodeDef, Params, ReportingRule, SchemeFile, Source,
    SupervisionRule, UnitDef, Window,
};

use crate::formula::Formula;
use crate::round::round2;

/// Names every formula may use besides the indicator's own fields and params.
pub const BUILTIN_VARIABLES: [&str; 3] = ["points", "progress", "month"];
/// Names a `source: records` formula may use as well.
pub const RECORD_VARIABLES: [&str; 2] = ["record_points", "record_count"];
const KEYWORDS: [&str; 3] = ["and", "or", "not"];

#[derive(Debug, Clone)]
pub struct Scheme {
    /// The file as loaded, for export and versioning.
    pub file: SchemeFile,
    pub year: i32,
    pub name: String,
    pub normalize_to: Option<f64>,
    pub groups: Vec<Group>,
    /// In the file's order: the order peers are summed in (spec §6).
    pub units: Vec<Unit>,
    pub grades: Vec<Grade>,
    /// Every node in tree order (depth first, parents before children).
    pub nodes: Vec<Node>,
    /// Top-level nodes, in order.
    pub roots: Vec<usize>,
    /// Indicator (leaf) nodes in tree order.
    pub indicators: Vec<usize>,
    group_index: HashMap<String, usize>,
    unit_index: HashMap<String, usize>,
    node_index: HashMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub id: String,
    pub name: String,
    /// Index into `Scheme::groups`.
    pub group: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    pub name: String,
    pub min_score: Option<f64>,
    pub quota: Option<Quota>,
}

/// A grade quota as the decimal written in the file: `digits × 10^-scale`, so that
/// `quota × units` is computed exactly (spec §7: 0.7 × 90 = 63).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub digits: u64,
    pub scale: u32,
}

impl Quota {
    fn from_f64(q: f64) -> Option<Quota> {
        // `{}` prints the shortest decimal that round-trips: the number as written.
        let text = format!("{q}");
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let digits: u64 = format!("{int}{frac}").parse().ok()?;
        Some(Quota { digits, scale: u32::try_from(frac.len()).ok()? })
    }

    /// `floor(quota × n)`, exactly.
    pub fn places(self, n: usize) -> u128 {
        let product = u128::from(self.digits) * n as u128;
        product / 10u128.pow(self.scale)
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub name: String,
    /// Inherited from the top-level node.
    pub kind: Kind,
    pub points: Option<f64>,
    /// Only on bonus and deduction top-level nodes.
    pub cap: Option<f64>,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// `Some` for an indicator (leaf), `None` for a category.
    pub indicator: Option<Indicator>,
}

impl Node {
    pub fn is_category(&self) -> bool {
        self.indicator.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct Indicator {
    pub frequency: Frequency,
    pub window: Window,
    pub source: Source,
    pub fields: Vec<FieldDef>,
    pub formula: Formula,
    /// What each of `formula.variables()` reads, slot by slot.
    pub slots: Vec<Slot>,
    /// Every param name used by the indicator or one of its rules.
    pub param_names: Vec<String>,
    /// Per unit (by index): `None` if the unit is not assigned, else its params in
    /// `param_names` order (`None` where the unit has no value for that param).
    pub assignments: Vec<Option<Vec<Option<f64>>>>,
    /// The unit (by index) that enters the data for all units, if not each unit.
    pub entered_by: Option<usize>,
    /// The unit (by index) that reviews the data, if any.
    pub reviewed_by: Option<usize>,
    /// Filled by the system (`filled_by`): from service-request or supervision-task
    /// metrics; `None` when people report it.
    pub filled_by: Option<FilledBy>,
}

/// Which of the system's sources fills an indicator (`filled_by`, jixiao's scheme
/// extension): its field keys are that source's metric keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilledBy {
    /// Public service requests (`core::service::metrics`).
    Service,
    /// Supervision tasks (`core::supervision::metrics`).
    Supervision,
}

impl FilledBy {
    pub const ALL: [FilledBy; 2] = [FilledBy::Service, FilledBy::Supervision];

    pub fn code(self) -> &'static str {
        match self {
            FilledBy::Service => "service",
            FilledBy::Supervision => "supervision",
        }
    }

    /// The field keys this source fills.
    pub fn metric_keys(self) -> &'static [&'static str] {
        match self {
            FilledBy::Service => &crate::service::METRIC_KEYS,
            FilledBy::Supervision => &crate::supervision::METRIC_KEYS,
        }
    }
}

impl Indicator {
    /// Whether the system fills it (people never report it).
    pub fn system_filled(&self) -> bool {
        self.filled_by.is_some()
    }
}

impl Indicator {
    pub fn is_assigned(&self, unit: usize) -> bool {
        self.assignments.get(unit).is_some_and(Option::is_some)
    }

    pub fn field_index(&self, key: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.key == key)
    }

    /// Whether month (1–12) is one the indicator is reported in.
    pub fn is_due(&self, month: u8) -> bool {
        match self.frequency {
            Frequency::Monthly => true,
            Frequency::Quarterly => month.is_multiple_of(3),
            Frequency::Annual => month == 12,
        }
    }
}

/// What one formula variable reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The aggregated value of the indicator's field with this index.
    Field(usize),
    /// The unit's value of the param with this index.
    Param(usize),
    Points,
    Progress,
    Month,
    RecordPoints,
    RecordCount,
}

/// One problem in a scheme, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// `node A1`, `unit u03`, `group dept`, `grades[2]`, `scheme`, or a JSON position.
    pub location: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every problem found in a scheme file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SchemeError {
    pub issues: Vec<Issue>,
}

impl fmt::Display for SchemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.issues.len();
        write!(f, "invalid scheme ({n} error{}):", if n == 1 { "" } else { "s" })?;
        for issue in &self.issues {
            write!(f, "\n  {issue}")?;
        }
        Ok(())
    }
}

impl Scheme {
    /// Parses and validates a scheme file's text.
    pub fn from_json(text: &str) -> Result<Scheme, SchemeError> {
        let file: SchemeFile = serde_json::from_str(text).map_err(|e| SchemeError {
            issues: vec![Issue {
                location: format!("line {}, column {}", e.line(), e.column()),
                message: format!("not a valid scheme file: {e}"),
            }],
        })?;
        Scheme::from_file(file)
    }

    /// Validates a parsed scheme file (spec §2) and compiles its formulas.
    pub fn from_file(file: SchemeFile) -> Result<Scheme, SchemeError> {
        Validator::default().run(file)
    }

    /// The scheme file as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.file).expect("a scheme file always serialises")
    }

    pub fn group_index(&self, id: &str) -> Option<usize> {
        self.group_index.get(id).copied()
    }
    pub fn unit_index(&self, id: &str) -> Option<usize> {
        self.unit_index.get(id).copied()
    }
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.node_index.get(id).copied()
    }

    /// The indicator at node `node`, if it is one.
    pub fn indicator(&self, node: usize) -> Option<&Indicator> {
        self.nodes.get(node).and_then(|n| n.indicator.as_ref())
    }

    /// Units of a group, in scheme order.
    pub fn units_of_group(&self, group: usize) -> impl Iterator<Item = usize> + '_ {
        self.units.iter().enumerate().filter(move |(_, u)| u.group == group).map(|(i, _)| i)
    }
}

#[derive(Default)]
struct Validator {
    issues: Vec<Issue>,
}

impl Validator {
    fn issue(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue { location: location.into(), message: message.into() });
    }

    fn run(mut self, file: SchemeFile) -> Result<Scheme, SchemeError> {
        if !(1..=9999).contains(&file.year) {
            self.issue("scheme", format!("year {} is not a calendar year", file.year));
        }
        if let Some(n) = file.normalize_to
            && !(n.is_finite() && n > 0.0)
        {
            self.issue("scheme", "normalize_to must be null or a positive number");
        }

        let mut group_index = HashMap::new();
        let mut groups = Vec::new();
        for g in &file.groups {
            let loc = format!("group {}", g.id);
            if g.id.is_empty() {
                self.issue("groups", "a group has an empty id");
            } else if group_index.contains_key(&g.id) {
                self.issue(loc, "duplicate group id");
                continue;
            } else {
                group_index.insert(g.id.clone(), groups.len());
            }
            groups.push(Group { id: g.id.clone(), name: g.name.clone() });
        }

        let mut unit_index = HashMap::new();
        let mut units = Vec::new();
        for u in &file.units {
            let loc = format!("unit {}", u.id);
            if u.id.is_empty() {
                self.issue("units", "a unit has an empty id");
                continue;
            }
            let Some(&group) = group_index.get(&u.group) else {
                self.issue(loc, format!("unknown group `{}`", u.group));
                continue;
            };
            if unit_index.contains_key(&u.id) {
                self.issue(loc, "duplicate unit id");
                continue;
            }
            unit_index.insert(u.id.clone(), units.len());
            units.push(Unit { id: u.id.clone(), name: u.name.clone(), group });
        }

        let mut grades = Vec::new();
        for (i, g) in file.grades.iter().enumerate() {
            let loc = format!("grades[{i}]");
            if g.name.is_empty() {
                self.issue(&loc, "a grade needs a name");
            }
            if g.min_score.is_some_and(|m| !m.is_finite()) {
                self.issue(&loc, "min_score must be a number");
            }
            let quota = match g.quota {
                None => None,
                Some(q) if q.is_finite() && (0.0..=1.0).contains(&q) => Quota::from_f64(q),
                Some(q) => {
                    self.issue(&loc, format!("quota {q} must be between 0 and 1"));
                    None
                }
            };
            grades.push(Grade { name: g.name.clone(), min_score: g.min_score, quota });
        }

        let mut ctx = TreeContext {
            group_index: &group_index,
            unit_index: &unit_index,
            units: &units,
            nodes: Vec::new(),
            node_index: HashMap::new(),
        };
        let mut roots = Vec::new();
        for def in &file.tree {
            if (def.kind.is_none() || def.kind == Some(Kind::Regular)) && def.cap.is_some() {
                self.issue(format!("node {}", def.id), "cap is allowed only on bonus and deduction top-level nodes");
            }
            let kind = def.kind.unwrap_or_default();
            if let Some(cap) = def.cap
                && !(cap.is_finite() && cap >= 0.0)
            {
                self.issue(format!("node {}", def.id), "cap must be a number ≥ 0");
            }
            if let Some(root) = self.node(&mut ctx, def, kind, None) {
                roots.push(root);
            }
        }
        let TreeContext { nodes, node_index, .. } = ctx;
        let indicators = (0..nodes.len()).filter(|&i| nodes[i].indicator.is_some()).collect();
        if let Some(rule) = &file.reporting {
            let target = node_index.get(&rule.deduction).map(|&n| &nodes[n]);
            match target {
                Some(n) if n.kind == Kind::Deduction && n.indicator.as_ref().is_some_and(|i| i.source == Source::Records) => {}
                _ => self.issue("reporting", format!("deduction `{}` must be a records indicator under a deduction node", rule.deduction)),
            }
            for (name, points) in [("late_points", rule.late_points), ("missing_points", rule.missing_points)] {
                if !(points.is_finite() && points >= 0.0) {
                    self.issue("reporting", format!("{name} must be a number ≥ 0"));
                }
            }
        }

        if let Some(rule) = &file.supervision {
            let target = node_index.get(&rule.deduction).map(|&n| &nodes[n]);
            match target {
                Some(n) if n.kind == Kind::Deduction && n.indicator.as_ref().is_some_and(|i| i.source == Source::Records) => {}
                _ => {
                    self.issue("supervision", format!("deduction `{}` must be a records indicator under a deduction node", rule.deduction))
                }
            }
            if !(rule.overdue_points.is_finite() && rule.overdue_points >= 0.0) {
                self.issue("supervision", "overdue_points must be a number ≥ 0");
            }
        }

        if let Some(Err(message)) = file.lights.as_ref().map(crate::lights::LightRule::check) {
            self.issue("lights", message);
        }

        if !self.issues.is_empty() {
            return Err(SchemeError { issues: self.issues });
        }
        Ok(Scheme {
            year: file.year,
            name: file.name.clone(),
            normalize_to: file.normalize_to,
            groups,
            units,
            grades,
            nodes,
            roots,
            indicators,
            group_index,
            unit_index,
            node_index,
            file,
        })
    }

    /// Validates one node and its subtree; returns its index in tree order.
    fn node(&mut self, ctx: &mut TreeContext, def: &NodeDef, kind: Kind, parent: Option<usize>) -> Option<usize> {
        let loc = format!("node {}", def.id);
        if def.id.is_empty() {
            self.issue(format!("node `{}`", def.name), "a node has an empty id");
        } else if ctx.node_index.contains_key(&def.id) {
            self.issue(&loc, "duplicate node id");
        }
        if parent.is_some() {
            if def.kind.is_some() {
                self.issue(&loc, "kind is allowed on top-level nodes only");
            }
            if def.cap.is_some() {
                self.issue(&loc, "cap is allowed on bonus and deduction top-level nodes only");
            }
        }
        match def.points {
            Some(p) if !(p.is_finite() && p >= 0.0) => self.issue(&loc, "points must be a number ≥ 0"),
            None if kind == Kind::Regular => self.issue(&loc, "points is required on every regular node"),
            _ => {}
        }

        let index = ctx.nodes.len();
        ctx.node_index.entry(def.id.clone()).or_insert(index);
        ctx.nodes.push(Node {
            id: def.id.clone(),
            name: def.name.clone(),
            kind,
            points: def.points,
            cap: if parent.is_none() { def.cap } else { None },
            parent,
            children: Vec::new(),
            indicator: None,
        });

        if let Some(children) = &def.children {
            for (key, present) in [
                ("formula", def.formula.is_some()),
                ("assign", def.assign.is_some()),
                ("fields", def.fields.is_some()),
                ("params", def.params.is_some()),
                ("source", def.source.is_some()),
                ("frequency", def.frequency.is_some()),
                ("window", def.window.is_some()),
                ("entered_by", def.entered_by.is_some()),
                ("reviewed_by", def.reviewed_by.is_some()),
                ("filled_by", def.filled_by.is_some()),
            ] {
                if present {
                    self.issue(&loc, format!("`{key}` belongs on an indicator, not on a category"));
                }
            }
            if children.is_empty() {
                self.issue(&loc, "a category needs at least one child");
            }
            let mut child_ids = Vec::new();
            for child in children {
                if let Some(c) = self.node(ctx, child, kind, Some(index)) {
                    child_ids.push(c);
                }
            }
            if kind == Kind::Regular
                && let Some(points) = def.points
            {
                let sum = children.iter().filter_map(|c| c.points).fold(0.0, |a, p| a + p);
                if round2(sum) != round2(points) {
                    self.issue(&loc, format!("children's points add up to {} but the category has {}", round2(sum), points));
                }
            }
            ctx.nodes[index].children = child_ids;
        } else {
            ctx.nodes[index].indicator = self.indicator(ctx, def, &loc);
        }
        Some(index)
    }

    fn indicator(&mut self, ctx: &TreeContext, def: &NodeDef, loc: &str) -> Option<Indicator> {
        let source = def.source.unwrap_or_default();
        let fields = def.fields.clone().unwrap_or_default();
        let mut ok = true;
        let mut names: HashSet<&str> = HashSet::new();

        if source == Source::Records && !fields.is_empty() {
            self.issue(loc, "a `source: records` indicator has no fields; it counts records");
            ok = false;
        }
        for f in &fields {
            if !is_identifier(&f.key) {
                self.issue(loc, format!("field key `{}` is not an identifier (letters, digits and _, not starting with a digit)", f.key));
                ok = false;
            } else if is_reserved(&f.key) {
                self.issue(loc, format!("field key `{}` is a reserved name", f.key));
                ok = false;
            } else if !names.insert(&f.key) {
                self.issue(loc, format!("duplicate field key `{}`", f.key));
                ok = false;
            }
            for (bound, value) in [("min", f.min), ("max", f.max)] {
                if value.is_some_and(|v| !v.is_finite()) {
                    self.issue(loc, format!("field `{}`: {bound} must be a number", f.key));
                    ok = false;
                }
            }
            if let (Some(lo), Some(hi)) = (f.min, f.max)
                && lo > hi
            {
                self.issue(loc, format!("field `{}`: min {lo} is greater than max {hi}", f.key));
                ok = false;
            }
        }

        // Param names: the indicator's defaults, then any a rule introduces.
        let mut param_names: Vec<String> = Vec::new();
        let mut defaults: Vec<Option<f64>> = Vec::new();
        let empty = Params::new();
        let rules = def.assign.as_deref().unwrap_or_default();
        for (rule_loc, params) in std::iter::once((String::from("params"), def.params.as_ref().unwrap_or(&empty)))
            .chain(rules.iter().enumerate().map(|(i, r)| (format!("assign[{i}]"), &r.params)))
        {
            for (key, value) in params {
                if !param_names.contains(key) {
                    if !is_identifier(key) {
                        self.issue(loc, format!("{rule_loc}: param `{key}` is not an identifier"));
                        ok = false;
                    } else if is_reserved(key) {
                        self.issue(loc, format!("{rule_loc}: param `{key}` is a reserved name"));
                        ok = false;
                    } else if names.contains(key.as_str()) {
                        self.issue(loc, format!("{rule_loc}: param `{key}` has the same name as a field"));
                        ok = false;
                    }
                    param_names.push(key.clone());
                }
                if !value.as_f64().is_some_and(f64::is_finite) {
                    self.issue(loc, format!("{rule_loc}: param `{key}` must be a number, not {value}"));
                    ok = false;
                }
            }
        }
        let param_value = |params: &Params, i: usize| params.get(&param_names[i]).and_then(|v| v.as_f64());
        if let Some(params) = &def.params {
            defaults = (0..param_names.len()).map(|i| param_value(params, i)).collect();
        }
        defaults.resize(param_names.len(), None);

        // Assignment: defaults < group rule < unit rule, later rules of a level winning.
        let mut group_rules: Vec<Vec<&AssignRule>> = vec![Vec::new(); ctx.group_index.len()];
        let mut unit_rules: Vec<Vec<&AssignRule>> = vec![Vec::new(); ctx.units.len()];
        match &def.assign {
            None => {
                self.issue(loc, "an indicator needs `assign` (and a category needs `children`)");
                ok = false;
            }
            Some(rules) => {
                for (i, rule) in rules.iter().enumerate() {
                    match (&rule.group, &rule.unit) {
                        (Some(g), None) => match ctx.group_index.get(g) {
                            Some(&gi) => group_rules[gi].push(rule),
                            None => {
                                self.issue(loc, format!("assign[{i}]: unknown group `{g}`"));
                                ok = false;
                            }
                        },
                        (None, Some(u)) => match ctx.unit_index.get(u) {
                            Some(&ui) => unit_rules[ui].push(rule),
                            None => {
                                self.issue(loc, format!("assign[{i}]: unknown unit `{u}`"));
                                ok = false;
                            }
                        },
                        _ => {
                            self.issue(loc, format!("assign[{i}]: a rule names exactly one of `group` or `unit`"));
                            ok = false;
                        }
                    }
                }
            }
        }
        let assignments: Vec<Option<Vec<Option<f64>>>> = ctx
            .units
            .iter()
            .enumerate()
            .map(|(ui, unit)| {
                let rules: Vec<&AssignRule> = group_rules[unit.group].iter().chain(unit_rules[ui].iter()).copied().collect();
                if rules.is_empty() {
                    return None;
                }
                let mut values = defaults.clone();
                for rule in rules {
                    for (i, v) in values.iter_mut().enumerate() {
                        if let Some(x) = param_value(&rule.params, i) {
                            *v = Some(x);
                        }
                    }
                }
                Some(values)
            })
            .collect();

        let Some(source_text) = &def.formula else {
            self.issue(loc, "an indicator needs a `formula`");
            return None;
        };
        let mut vocabulary: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
        vocabulary.extend(param_names.iter().map(String::as_str));
        vocabulary.extend(BUILTIN_VARIABLES);
        if source == Source::Records {
            vocabulary.extend(RECORD_VARIABLES);
        }
        let formula = match Formula::compile(source_text, &vocabulary) {
            Ok(f) => f,
            Err(errors) => {
                for e in errors {
                    self.issue(loc, format!("formula {e}"));
                }
                return None;
            }
        };
        let slots: Vec<Slot> = formula
            .variables()
            .iter()
            .map(|name| match name.as_str() {
                "points" => Slot::Points,
                "progress" => Slot::Progress,
                "month" => Slot::Month,
                "record_points" => Slot::RecordPoints,
                "record_count" => Slot::RecordCount,
                key => match fields.iter().position(|f| f.key == key) {
                    Some(i) => Slot::Field(i),
                    None => Slot::Param(param_names.iter().position(|p| p == key).unwrap_or(0)),
                },
            })
            .collect();
        // Every assigned unit needs a value for every param the formula reads.
        for slot in &slots {
            if let Slot::Param(p) = *slot {
                for (ui, a) in assignments.iter().enumerate() {
                    if a.as_ref().is_some_and(|values| values[p].is_none()) {
                        self.issue(loc, format!("unit {} is assigned but has no value for param `{}`", ctx.units[ui].id, param_names[p]));
                        ok = false;
                    }
                }
            }
        }
        let mut unit_of = |key: &str, id: &Option<String>| match id {
            None => None,
            Some(id) => {
                let found = ctx.unit_index.get(id).copied();
                if found.is_none() {
                    self.issue(loc, format!("{key}: unknown unit `{id}`"));
                    ok = false;
                }
                found
            }
        };
        let entered_by = unit_of("entered_by", &def.entered_by);
        let reviewed_by = unit_of("reviewed_by", &def.reviewed_by);
        let filled_by = match def.filled_by.as_deref() {
            None => None,
            Some(code) => match FilledBy::ALL.into_iter().find(|f| f.code() == code) {
                Some(by) => {
                    if source != Source::Fields {
                        self.issue(loc, format!("filled_by: {code} needs `source: fields`"));
                        ok = false;
                    }
                    if def.entered_by.is_some() {
                        self.issue(loc, "filled_by and entered_by cannot both be set");
                        ok = false;
                    }
                    for f in &fields {
                        if !by.metric_keys().contains(&f.key.as_str()) {
                            self.issue(
                                loc,
                                format!(
                                    "filled_by: {code}: field `{}` is not a {code} metric (one of {})",
                                    f.key,
                                    by.metric_keys().join(", ")
                                ),
                            );
                            ok = false;
                        }
                    }
                    Some(by)
                }
                None => {
                    self.issue(loc, format!("filled_by: unknown value `{code}` (expected `service` or `supervision`)"));
                    ok = false;
                    None
                }
            },
        };
        ok.then_some(Indicator {
            filled_by,
            entered_by,
            reviewed_by,
            frequency: def.frequency.unwrap_or_default(),
            window: def.window.unwrap_or_default(),
            source,
            fields,
            formula,
            slots,
            param_names,
            assignments,
        })
    }
}

struct TreeContext<'a> {
    group_index: &'a HashMap<String, usize>,
    unit_index: &'a HashMap<String, usize>,
    units: &'a [Unit],
    nodes: Vec<Node>,
    node_index: HashMap<String, usize>,
}

/// An identifier of the formula language (spec §4): Unicode letters, digits and
/// `_`, not starting with a digit, and not a keyword.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&s)
}

fn is_reserved(s: &str) -> bool {
    BUILTIN_VARIABLES.contains(&s) || RECORD_VARIABLES.contains(&s)
}

#[cfg(test)]
pub(crate) mod tests;
