//! Public service requests (公共服务诉求): what a citizen asks of the government, from
//! intake to the citizen's rating, and what the requests say about each department.
//!
//! - `lifecycle` — the request's states and steps (受理 → 派单 → 签收 → 办结 → 核查 →
//!   评价/结案, with transfer 转办, rejection 退回 and arbitration 仲裁, redo 重办,
//!   escalation 督办升级 and unrated auto-close), and who may take each step;
//! - `sla` — time limits (办理时限) in working days over a holiday calendar, and the
//!   overdue light (green / yellow / red);
//! - `case` — case numbers (`QK-2027-000123`) and query passwords (查询密码);
//! - `metrics` — per department and month: received, on-time rate, satisfaction rate,
//!   redo rate, average handling hours — the system-filled fields indicators read.
//!
//! Like the rest of `core`, nothing here does I/O: the store keeps requests, the web
//! layer asks these functions what is allowed and what a deadline is.

pub mod case;
pub mod lifecycle;
pub mod metrics;
pub mod sla;

pub use case::{CaseNumber, query_password};
pub use lifecycle::{Actor, Rating, RequestState, ServiceError, Step, next};
pub use metrics::{METRIC_KEYS, MonthMetrics, RequestFacts, monthly_metrics};
pub use sla::{Calendar, Light, deadline, light};
