//! `jixiao open311 key add NAME | list | revoke ID`: the API keys Open311 clients
//! post requests with (`/open311/v2`). A new key is printed once; only its SHA-256
//! is stored. The office manages the same keys on `/service/keys`.

use jixiao_app::{Actor, AppConfig, Tr, accounts};
use jixiao_core::org::Role;

use super::db::DbArgs;

#[derive(clap::Subcommand)]
pub enum Open311Command {
    /// Manage Open311 API keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(clap::Subcommand)]
pub enum KeyCommand {
    /// Create a key named NAME and print it (once).
    Add { name: String },
    /// List the keys (never the keys themselves).
    List,
    /// Revoke the key with this id, for good.
    Revoke { id: i64 },
}

pub async fn run(db: &DbArgs, command: Open311Command) -> anyhow::Result<()> {
    let app = db.app(AppConfig::default()).await?;
    let store = &app.store;
    let cli = Actor::system("cli", Role::Office);
    let Open311Command::Key(command) = command;
    match command {
        KeyCommand::Add { name } => {
            let (id, key) = accounts::add_open311_key(&app, &cli, &Tr::default(), &name).await?;
            println!("{key}");
            eprintln!("Open311 key {id} `{}` created; it is shown only this once.", name.trim());
        }
        KeyCommand::List => {
            let mut rows = vec![["id", "name", "created by", "created at", "revoked at"].map(String::from).to_vec()];
            for k in store.open311_keys().await? {
                rows.push(vec![k.id.to_string(), k.name, k.created_by, k.created_at, k.revoked_at.unwrap_or_default()]);
            }
            print!("{}", super::table::render(&rows, &[]));
        }
        KeyCommand::Revoke { id } => {
            accounts::revoke_open311_key(&app, &cli, id).await?;
            eprintln!("Open311 key {id} revoked.");
        }
    }
    Ok(())
}
