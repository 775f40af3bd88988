//! Use-case tests of jixiao-app: no HTTP, a fixed clock, a fresh SQLite and a fresh
//! PostgreSQL database per test (`jixiao_app::testing`).

mod analysis;
mod imports;
mod jobs;
mod records;
mod supervision;

/// A SQLite and a PostgreSQL variant of each `async fn name(backend: Backend)`.
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(jixiao_store::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(jixiao_store::Backend::Postgres).await
                }
            )+
        }
    };
}
pub(crate) use backend_tests;

/// The clock standing at a site-zone wall time, `2027-04-12 10:00`.
pub fn at(local: &str) -> jixiao_app::Clock {
    jixiao_app::Clock::at_local(chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap())
}
