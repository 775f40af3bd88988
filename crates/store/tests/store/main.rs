//! Storage tests. Every test in the modules below runs on SQLite and on PostgreSQL
//! (see `common`).

mod common;

mod audit;
mod connect;
mod data;
mod entries;
mod misc;
mod record_keys;
mod refresh;
mod register;
mod schemes;
mod service;
mod stamps;
mod supervision;
mod tx;
mod users;
