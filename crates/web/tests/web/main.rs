//! Handler tests of jixiao-web: the real router on a random port, against a fresh
//! SQLite and a fresh PostgreSQL database per test (see `common`).

mod common;
mod matrix;
mod security;
mod sessions;
mod pages;
mod api;
mod report;
mod schemes;
mod scheme_draft;
mod assess;
mod reminders;
mod scores;
mod periods;
mod service;
mod service_office;
mod open311;
mod bulletins;
