//! `jixiao demo`: loads the demo district (江汉新区: 76 units, the "3+2" scheme of the
//! current year, monthly data through last month, bonus and deduction records,
//! public service requests up to today, supervision tasks in every state, one account per role and one in a department
//! that handles requests) into the database, computes its scores and prints the demo
//! accounts once. It lives in the present, so deadlines, reminders, overdue lights and
//! Open311's default 90-day window show real things; `--year` loads another year.
//! Idempotent: a database that already holds the demo year is left as it is,
//! unless `--force` (SQLite only) starts from an empty file.

use jixiao_core::data::Dataset;
use jixiao_core::generate::{demo_district, demo_users};
use jixiao_core::org::{Role, Scope};
use jixiao_core::scheme::Scheme;
use jixiao_store::{NewUser, RoleGrant};

/// The demo indicators the assessor (区统计局) leads: fixed-asset investment, retail
/// sales and the quality of statistics.
const DEMO_ASSESSOR_INDICATORS: [&str; 3] = ["A12", "A13", "A45"];

use super::db::{DbArgs, sqlite_path};
use super::serve::ServeArgs;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// The assessment year of the demo scheme [default: the year of last month].
    #[arg(long)]
    year: Option<i32>,
    /// Data is reported from January through this month [default: last month, or
    /// December of a past year].
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=12))]
    through_month: Option<u8>,
    /// Seed of the generator: the same seed gives the same district.
    #[arg(long, default_value_t = 2027)]
    seed: u64,
    /// Delete the SQLite database file first and load the demo afresh.
    #[arg(long)]
    force: bool,
    /// Serve the demo district afterwards.
    #[arg(long)]
    serve: bool,
    #[command(flatten)]
    serve_args: ServeArgs,
}

pub async fn run(db: &DbArgs, args: DemoArgs) -> anyhow::Result<()> {
    if args.force {
        let Some(path) = sqlite_path(&db.database) else {
            anyhow::bail!("--force deletes an SQLite file; for PostgreSQL drop and create the database yourself (dropdb, createdb)");
        };
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", path.display());
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(anyhow::Error::from(e).context(format!("cannot delete {file}"))),
            }
        }
    }
    db.open_migrated().await?;
    let app = db.app(jixiao_app::AppConfig::default()).await?;
    let store = &app.store;
    // Last month is the month due now; the demo's data reaches it.
    let due = jixiao_app::collection::due_month(&app);
    let year = args.year.unwrap_or(due.year);
    let through = args.through_month.unwrap_or(match year.cmp(&due.year) {
        std::cmp::Ordering::Equal => due.month,
        std::cmp::Ordering::Less => 12,
        std::cmp::Ordering::Greater => 1,
    });
    if !store.scheme_versions(year).await?.is_empty() {
        println!("the demo year {year} is already loaded in {} (use --force to start afresh)", store.url());
    } else {
        let started = std::time::Instant::now();
        let bar = super::data::progress("generating the demo district");
        let (mut scheme_file, data_file) = demo_district(year, through, args.seed);
        super::demo_service::add_indicator(&mut scheme_file)?;
        super::demo_supervision::add_indicator(&mut scheme_file)?;
        let scheme = Scheme::from_file(scheme_file.clone())?;
        Dataset::load(&scheme, &data_file)?;
        bar.set_message("writing");
        let mut tx = store.begin("demo").await?;
        let version = store.import_scheme(&mut tx, &scheme_file, "演示方案 / demo scheme").await?;
        tx.audit(
            "scheme.import",
            "scheme",
            &format!("{}/v{version}", year),
            None,
            Some(serde_json::json!({"name": scheme.name, "reason": "demo"})),
        )
        .await?;
        let summary = store.import_data(&mut tx, year, &data_file).await?;
        tx.audit(
            "data.import",
            "data",
            &year.to_string(),
            None,
            Some(serde_json::json!({"entries": summary.entries, "records": summary.records})),
        )
        .await?;
        for u in demo_users() {
            let role: Role = u.role.parse().map_err(anyhow::Error::msg)?;
            let scope = match role {
                // The statistics bureau leads the indicators whose figures it compiles.
                Role::Assessor => Scope::Indicators(DEMO_ASSESSOR_INDICATORS.map(String::from).into()),
                _ => role.default_scope(u.unit.as_deref()),
            }
            .to_json();
            let id = store
                .add_user(
                    &mut tx,
                    &NewUser {
                        username: u.username.into(),
                        display_name: u.display_name.into(),
                        password: u.password.into(),
                        unit_id: u.unit.clone(),
                        language: "zh-CN".into(),
                    },
                )
                .await?;
            store.set_roles(&mut tx, id, &[RoleGrant { role: u.role.into(), scope: scope.clone() }]).await?;
            tx.audit("user.add", "user", u.username, None, Some(serde_json::json!({"role": u.role, "scope": scope}))).await?;
        }
        // The body that issues the district's bulletins (their red header).
        let issuer = format!("{}绩效考核办公室", jixiao_core::generate::DISTRICT_NAME);
        store.set_setting(&mut tx, jixiao_store::ISSUER_SETTING, &issuer).await?;
        tx.audit("setting.set", "setting", jixiao_store::ISSUER_SETTING, None, Some(serde_json::json!(issuer))).await?;
        tx.commit().await?;
        bar.set_message("service requests");
        let requests = super::demo_service::load(&app, year, through).await?;
        bar.set_message("records");
        let (registered, applications) = super::demo_records::load(&app, year, through).await?;
        bar.set_message("supervision tasks");
        let tasks = super::demo_supervision::load(&app, &scheme_file, year).await?;
        bar.set_message("scoring");
        jixiao_app::service::metrics::write_entries(&app, &scheme, year).await?;
        jixiao_app::supervision::metrics::write_entries(&app, &scheme, year).await?;
        // The overdue task's deduction and reminders, as the daily job would.
        jixiao_app::supervision::overdue::run(&app, &jixiao_app::Actor::system("demo", Role::Office)).await?;
        store.refresh_scores(year).await?;
        bar.finish_and_clear();
        println!(
            "demo district loaded into {} in {:.1} s: {} groups, {} units, {} indicators, {} entries, {} records (January–{through} {})",
            store.url(),
            started.elapsed().as_secs_f64(),
            scheme.groups.len(),
            scheme.units.len(),
            scheme.indicators.len(),
            summary.entries,
            summary.records,
            year
        );
        println!("{requests} public service requests (query password {} for every demo request)", super::demo_service::DEMO_PASSWORD);
        println!("{registered} records registered in the browser, {applications} bonus applications (one approved, one waiting)");
        println!("{tasks} supervision tasks (督办事项) in every state");
        println!("\ndemo accounts (shown once; change them before real use):");
        let mut rows = vec![["用户名 username", "密码 password", "角色 role", "姓名", "单位 unit"].map(String::from).to_vec()];
        rows.extend(demo_users().into_iter().map(|u| {
            vec![
                u.username.into(),
                u.password.into(),
                format!("{} {}", u.role, u.role_name),
                u.display_name.into(),
                u.unit.unwrap_or_default(),
            ]
        }));
        print!("{}", super::table::render(&rows, &[]));
    }
    if args.serve {
        super::serve::run(db, args.serve_args).await?;
    }
    Ok(())
}
