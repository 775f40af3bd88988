//! `jixiao user add|passwd|list`: accounts from the command line, e.g. the first
//! administrator of a new installation.

use anyhow::Context;
use jixiao_core::org::Role;
use jixiao_store::{NewUser, RoleGrant};

use super::db::DbArgs;

/// The role codes of DESIGN §1 (`core::org::Role`).
const ROLES: [&str; 7] = ["admin", "office", "assessor", "reporter", "head", "leader", "staff"];

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

/// The password policy of `core::org`, as a command-line error.
fn check_password(username: &str, password: &str) -> anyhow::Result<()> {
    jixiao_core::org::check_password(username, password).map_err(|p| anyhow::anyhow!("{p}"))
}

pub async fn run(db: &DbArgs, command: UserCommand) -> anyhow::Result<()> {
    let store = db.open().await?;
    match command {
        UserCommand::Add { username, role, name, unit } => {
            if matches!(role.as_str(), "reporter" | "head" | "staff") && unit.is_none() {
                anyhow::bail!("a {role} belongs to a unit: add --unit UNIT_ID");
            }
            if let Some(u) = &unit {
                store.unit(u).await.with_context(|| format!("--unit {u}"))?;
            }
            let password = read_password()?;
            check_password(&username, &password)?;
            let scope = role.parse::<Role>().map_err(anyhow::Error::msg)?.default_scope(unit.as_deref()).to_json();
            let mut tx = store.begin("cli").await?;
            let id = store
                .add_user(
                    &mut tx,
                    &NewUser {
                        username: username.clone(),
                        display_name: name.unwrap_or_else(|| username.clone()),
                        password,
                        unit_id: unit.clone(),
                        language: "zh-CN".into(),
                    },
                )
                .await?;
            store.set_roles(&mut tx, id, &[RoleGrant { role: role.clone(), scope: scope.clone() }]).await?;
            tx.audit("user.add", "user", &username, None, Some(serde_json::json!({"role": role, "scope": scope, "unit": unit}))).await?;
            tx.commit().await?;
            println!("user {username} created with role {role}");
        }
        UserCommand::Passwd { username } => {
            let user = store.user_by_username(&username).await?.with_context(|| format!("no user `{username}`"))?;
            let password = read_password()?;
            check_password(&username, &password)?;
            let mut tx = store.begin("cli").await?;
            store.set_password(&mut tx, user.id, &password, false).await?;
            tx.audit("user.passwd", "user", &username, None, None).await?;
            tx.commit().await?;
            println!("password of {username} changed");
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
