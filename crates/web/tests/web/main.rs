//! Handler tests of jixiao-web: the real router on a random port, against a fresh
//! SQLite and a fresh PostgreSQL database per test (see `common`).

mod api;
mod assess;
mod audit_chain;
mod audit_events;
mod bulletins;
mod common;
mod edge;
mod hostile_workbooks;
mod matrix;
mod open311;
mod pages;
mod periods;
mod public_limits;
mod records;
mod reminders;
mod report;
mod scheme_draft;
mod schemes;
mod scores;
mod security;
mod service;
mod service_office;
mod sessions;
mod supervision;
mod tls;
