//! Supervision tasks (督办事项): what a leader or the assessment office assigns to
//! departments and follows to the end.
//!
//! - `task` — the task's own words: its source (a red warning light, an escalated
//!   service request, a leader's comment, or none), priority, evaluation grades;
//! - `lifecycle` — its states and steps (交办 → 签收 per unit → 进展 → 延期申请
//!   approved or refused → 办结 → 核验 or 退回 → 评价), and who may take each step;
//! - `overdue` — the overdue light of a task by working days under the working
//!   calendar (`core::calendar`);
//! - `metrics` — per unit and month: 交办数, 按期办结数, 逾期数, 办结率 and the average
//!   evaluation — the system-filled fields of indicators with `filled_by: supervision`.
//!
//! Nothing here does I/O: the store keeps tasks, the application asks these
//! functions what is allowed and what a light is.

pub mod lifecycle;
pub mod metrics;
pub mod overdue;
pub mod task;

pub use lifecycle::{Current, Step, SupervisionError, TaskState, TaskUnit, next};
pub use metrics::{METRIC_KEYS, MonthMetrics, TaskFacts, monthly_metrics};
pub use overdue::{YELLOW_WORKING_DAYS, light};
pub use task::{Grade, Priority, Source};
