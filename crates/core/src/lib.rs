//! jixiao-core: the domain of jixiao (绩效), with no I/O.
//!
//! Periods, the assessment scheme (考核方案) and its indicator tree, reported data,
//! the formula language and the scoring engine. Everything here is deterministic
//! and runs the same in the server, the command line and the benchmarks.

#![forbid(unsafe_code)]

pub mod analysis;
pub mod calendar;
pub mod data;
pub mod formula;
pub mod generate;
pub mod lights;
pub mod org;
pub mod period;
pub mod plans;
pub mod records;
pub mod round;
pub mod scheme;
pub mod score;
pub mod service;
pub mod supervision;
pub mod workflow;
