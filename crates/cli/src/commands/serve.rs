//! `jixiao serve`: the web application over the configured database.

use std::net::SocketAddr;

use super::db::DbArgs;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "JIXIAO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
}

pub async fn run(db: &DbArgs, args: ServeArgs) -> anyhow::Result<()> {
    let store = db.open().await?;
    println!("jixiao serving {} on http://{}", store.url(), args.bind);
    jixiao_web::serve(store, args.bind).await?;
    Ok(())
}
