//! `jixiao user add|passwd|list`: accounts from the command line, e.g. the first
//! administrator of a new installation — the app's `accounts` use cases, acting as
//! the system administrator. A password set here is known to whoever typed it, so
//! the user changes it at the first login, as after an administrator's reset.

use anyhow::Context;
use jixiao_app::accounts::{self, AccountInput};
use jixiao_app::{Actor, AppConfig, Tr};
use jixiao_core::org::Role;

use super::db::DbArgs;

/// The role codes of DESIGN §1 (`core::org::Role`); the administrative roles
/// (`admin`, `security`, `auditor`, 三权分立) are given only here, each alone.
const ROLES: [&str; 9] = ["admin", "security", "auditor", "office", "assessor", "reporter", "head", "leader", "staff"];

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from JIXIAO_PASSWORD or asked for on standard input.
    Add {
        username: String,
        #[arg(long, value_parser = ROLES)]
        role: String,
        #[arg(long)]
        name: Option<String>,
        /// The user's unit (required for reporter, head and staff).
        #[arg(long)]
        unit: Option<String>,
    },
    /// Set a user's password (read like `add`).
    Passwd { username: String },
    /// List accounts.
    List,
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("JIXIAO_PASSWORD") {
        return Ok(p);
    }
    eprint!("password: ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn errors(list: std::collections::BTreeMap<String, String>) -> anyhow::Error {
    anyhow::anyhow!("{}", list.into_iter().map(|(field, e)| format!("{field}: {e}")).collect::<Vec<_>>().join("\n"))
}

pub async fn run(db: &DbArgs, command: UserCommand) -> anyhow::Result<()> {
    let app = db.app(AppConfig::default()).await?;
    let store = &app.store;
    let (cli, tr) = (Actor::system("cli", Role::Admin), Tr::default());
    match command {
        UserCommand::Add { username, role, name, unit } => {
            let password = read_password()?;
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let input = AccountInput {
                display_name: name.unwrap_or_else(|| username.clone()),
                username: username.clone(),
                unit: unit.unwrap_or_default(),
                language: "zh-CN".into(),
                password,
                roles: vec![(role, String::new())],
            };
            accounts::create_user(&app, &cli, &tr, &input).await?.map_err(errors)?;
            println!("user {username} created with role {}; the first login asks for a new password", role.code());
        }
        UserCommand::Passwd { username } => {
            let user = store.user_by_username(&username).await?.with_context(|| format!("no user `{username}`"))?;
            let password = read_password()?;
            accounts::reset_password(&app, &cli, &tr, user.id, &password).await?;
            println!("password of {username} set; the next login asks for a new one");
        }
        UserCommand::List => {
            let mut rows = vec![["用户名", "姓名", "单位", "角色", "状态"].map(String::from).to_vec()];
            for u in store.users().await? {
                let roles: Vec<String> = store.roles(u.id).await?.into_iter().map(|r| r.role).collect();
                rows.push(vec![
                    u.username.clone(),
                    u.display_name.clone(),
                    u.unit_id.clone().unwrap_or_default(),
                    roles.join(","),
                    if u.disabled { "停用" } else { "正常" }.to_string(),
                ]);
            }
            print!("{}", super::table::render(&rows, &[]));
        }
    }
    Ok(())
}
