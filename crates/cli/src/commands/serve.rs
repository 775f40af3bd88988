//! `jixiao serve`: the web application over the configured database.
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
//! ```
//!
//! The database is chosen by `--database` / `JIXIAO_DATABASE_URL` (see `db`); the
//! account security policy (lockout, session expiry) is in the database's settings,
//! edited on the settings page, so all servers share it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
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
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    bind: Option<SocketAddr>,
    #[serde(default)]
    web: WebConfig,
}

impl ServeArgs {
    /// The address and web configuration after file, environment and flags.
    fn resolve(&self) -> anyhow::Result<(SocketAddr, WebConfig)> {
        let path = self.config.clone().or_else(|| Some(PathBuf::from("jixiao.toml")).filter(|p| p.exists()));
        let file = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("cannot read the config file {}", p.display()))?;
                toml::from_str::<ConfigFile>(&text).with_context(|| format!("config file {}", p.display()))?
            }
            None => ConfigFile::default(),
        };
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
        Ok((bind, web))
    }
}

pub async fn run(db: &DbArgs, args: ServeArgs) -> anyhow::Result<()> {
    let (bind, web) = args.resolve()?;
    let store = db.open().await?;
    for (year, rows) in store.repair_stale_scores().await? {
        tracing::warn!(year, rows, "stored scores were behind the data and are repaired");
    }
    println!("jixiao serving {} on http://{bind}", store.url());
    jixiao_web::serve(store, web, bind).await.with_context(|| format!("cannot serve on {bind}"))?;
    Ok(())
}
