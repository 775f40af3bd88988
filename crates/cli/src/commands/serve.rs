//! `jixiao serve` and `jixiao worker`: the web application, and the background jobs,
//! over the configured database.
//!
//! Settings come from, strongest first: the command line, `JIXIAO_*` environment
//! variables, the config file (`--config`, `JIXIAO_CONFIG`, else `jixiao.toml` in the
//! working directory if it exists), the defaults. The file:
//!
//! ```toml
//! bind = "0.0.0.0:8080"
//! [web]
//! secure_cookies = true            # served over TLS (directly or behind a proxy)
//! max_body_bytes = 20971520        # the largest request, uploads included
//! login_attempts_per_minute = 20   # per client address
//! trusted_proxies = ["10.0.0.1"]   # whose X-Forwarded-For / -Proto are believed
//! [app]
//! service_auto_close_days = 7      # unrated requests close this long after verification
//! sms_per_number_per_day = 10      # SMS to one number a day; more are held (over_limit)
//! [app.sms]
//! url = "https://sms.example.gov.cn/send?to={phone}&text={text}&user={username}&key={password}"
//! username = "jixiao"
//! password = "…"
//! ```
//!
//! The database is chosen by `--database` / `JIXIAO_DATABASE_URL` (see `db`); the
//! account security policy, the working calendar and the time zone are in the
//! database's settings, edited on the settings pages, so all processes share them.
//!
//! `serve` also runs the background jobs (`app::jobs`) unless `--no-jobs`; `worker`
//! runs only them. Any number of either may run against one database: each job run
//! is claimed in the database first.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use jixiao_app::AppConfig;
use jixiao_app::jobs::{self, Job};
use jixiao_web::WebConfig;
use serde::Deserialize;

use super::db::DbArgs;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "JIXIAO_BIND")]
    pub bind: Option<SocketAddr>,
    /// The config file [default: jixiao.toml, if present].
    #[arg(long, env = "JIXIAO_CONFIG")]
    pub config: Option<PathBuf>,
    /// Mark cookies Secure (when served over TLS).
    #[arg(long, env = "JIXIAO_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// The largest request body accepted, in bytes.
    #[arg(long, env = "JIXIAO_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Login attempts allowed per client address per minute.
    #[arg(long, env = "JIXIAO_LOGIN_ATTEMPTS_PER_MINUTE")]
    pub login_attempts_per_minute: Option<u32>,
    /// Do not run the background jobs in this process (run `jixiao worker` instead).
    #[arg(long, env = "JIXIAO_NO_JOBS")]
    pub no_jobs: bool,
}

#[derive(clap::Args)]
pub struct WorkerArgs {
    /// The config file [default: jixiao.toml, if present].
    #[arg(long, env = "JIXIAO_CONFIG")]
    pub config: Option<PathBuf>,
    /// Run each due job once and exit (for cron, and to see what they do).
    #[arg(long)]
    pub once: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    bind: Option<SocketAddr>,
    #[serde(default)]
    web: WebConfig,
    #[serde(default)]
    app: AppConfig,
}

/// The config file at `path`, else `jixiao.toml` when present, else the defaults.
fn config_file(path: Option<&PathBuf>) -> anyhow::Result<ConfigFile> {
    let path = path.cloned().or_else(|| Some(PathBuf::from("jixiao.toml")).filter(|p| p.exists()));
    match &path {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read the config file {}", p.display()))?;
            toml::from_str::<ConfigFile>(&text).with_context(|| format!("config file {}", p.display()))
        }
        None => Ok(ConfigFile::default()),
    }
}

impl ServeArgs {
    /// The address and configuration after file, environment and flags.
    fn resolve(&self) -> anyhow::Result<(SocketAddr, WebConfig, AppConfig)> {
        let file = config_file(self.config.as_ref())?;
        let mut web = file.web;
        if let Some(v) = self.secure_cookies {
            web.secure_cookies = v;
        }
        if let Some(v) = self.max_body_bytes {
            web.max_body_bytes = v;
        }
        if let Some(v) = self.login_attempts_per_minute {
            web.login_attempts_per_minute = v;
        }
        let bind = self.bind.or(file.bind).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        Ok((bind, web, file.app))
    }
}

pub async fn run(db: &DbArgs, args: ServeArgs) -> anyhow::Result<()> {
    let (bind, web, config) = args.resolve()?;
    let app = db.app(config).await?;
    jobs::check_scores_at_start(&app).await?;
    println!("jixiao serving {} on http://{bind}", app.store.url());
    if !args.no_jobs {
        tokio::spawn(jobs::run(app.clone(), Job::ALL.to_vec()));
    }
    jixiao_web::serve(app, web, bind).await.with_context(|| format!("cannot serve on {bind}"))?;
    Ok(())
}

/// `jixiao worker`: the background jobs without the web server.
pub async fn worker(db: &DbArgs, args: WorkerArgs) -> anyhow::Result<()> {
    let app = db.app(config_file(args.config.as_ref())?.app).await?;
    jobs::check_scores_at_start(&app).await?;
    if args.once {
        let me = jobs::claimant();
        for job in Job::ALL {
            match jobs::run_if_due(&app, job, &me).await? {
                Some(line) => println!("{}: {line}", job.name()),
                None => println!("{}: not due, or running elsewhere", job.name()),
            }
        }
        return Ok(());
    }
    eprintln!("jixiao worker on {}: running the background jobs until stopped", app.store.url());
    tokio::select! {
        () = jobs::run(app, Job::ALL.to_vec()) => {}
        _ = tokio::signal::ctrl_c() => eprintln!("stopping"),
    }
    Ok(())
}
