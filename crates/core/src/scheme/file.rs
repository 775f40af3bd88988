//! The scheme file (spec §2) exactly as users write it: serde types, nothing checked
//! yet. `Scheme::from_file` in the parent module validates it.
//!
//! Unknown keys are rejected, so a misspelt `"frequncy"` is an error rather than a
//! silently ignored setting.

use serde::{Deserialize, Serialize};

/// Parameter values of an indicator or an assignment rule, in the order written.
pub type Params = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemeFile {
    pub year: i32,
    pub name: String,
    #[serde(default)]
    pub normalize_to: Option<f64>,
    pub groups: Vec<GroupDef>,
    pub units: Vec<UnitDef>,
    #[serde(default)]
    pub grades: Vec<GradeDef>,
    pub tree: Vec<NodeDef>,
    /// Optional (jixiao's extension of spec §2): how late and missing monthly
    /// reports turn into deduction records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting: Option<ReportingRule>,
    /// Optional (jixiao's extension): the thresholds of the warning lights
    /// (`core::lights`); absent, the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lights: Option<crate::lights::LightRule>,
    /// Optional (jixiao's extension): how an overdue supervision task turns into a
    /// deduction record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervision: Option<SupervisionRule>,
}

/// `"supervision": {"deduction": "Y1", "overdue_points": 0.5}`: a supervision task
/// whose deadline passes without a claim (or whose claim came late) gives its lead
/// unit one record of `overdue_points` on the deduction indicator `deduction` (a
/// `source: records` indicator under a deduction node), dated the deadline's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionRule {
    pub deduction: String,
    #[serde(default)]
    pub overdue_points: f64,
}

/// `"reporting": {"deduction": "Y2", "late_points": 0.5, "missing_points": 1}`: a
/// month reported late gives the unit a record of `late_points` on the deduction
/// indicator `deduction` (a `source: records` indicator under a deduction node), a
/// month still missing after its deadline one of `missing_points`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportingRule {
    pub deduction: String,
    #[serde(default)]
    pub late_points: f64,
    #[serde(default)]
    pub missing_points: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupDef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitDef {
    pub id: String,
    pub name: String,
    pub group: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// 基础指标
    #[default]
    Regular,
    /// 加分项
    Bonus,
    /// 减分项
    Deduction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    #[default]
    Monthly,
    Quarterly,
    Annual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// Year to date: months 1..end of the period.
    #[default]
    Ytd,
    /// The period's own months.
    Period,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    #[default]
    Fields,
    Records,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    #[default]
    Number,
    Integer,
    Percent,
    /// Stored as 1 or 0.
    Boolean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Aggregation {
    #[default]
    Last,
    Sum,
    Avg,
    Max,
    Min,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub key: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub agg: Aggregation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// `{"group": G, "params": {...}}` or `{"unit": U, "params": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Params::is_empty")]
    pub params: Params,
}

/// A category (has `children`) or an indicator (has `formula` and `assign`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDef {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<NodeDef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<Frequency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldDef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Params>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign: Option<Vec<AssignRule>>,
    /// jixiao's extension: the unit (a 考核责任部门, assessor) that enters this
    /// indicator's data for every unit assigned it; absent, each unit reports its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entered_by: Option<String>,
    /// jixiao's extension: the unit whose assessors review (审核) this indicator's
    /// data for the office; absent, the office alone accepts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    /// jixiao's extension: `"service"` — the system fills this indicator's fields,
    /// every month for every unit, from the public service requests the unit handled
    /// (`core::service::metrics`); its field keys must be metric keys
    /// (`received`, `on_time_rate`, `satisfaction_rate`, `redo_rate`,
    /// `handling_hours`). Absent, units (or `entered_by`) report the fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled_by: Option<String>,
}
