//! Who acts (操作人): an account or an API token with its grants (role and data
//! scope), or the command line and the background jobs acting as a role.
//!
//! Every use case takes the `Actor` and asks it — `require` and `can`, which call
//! `core::org::allows`, the one permission rule. Front ends only find out who the actor
//! is (the web from a session or a token, the command line from its subcommand).

use jixiao_core::org::{Action, Grant, Role, Scope, Target, allows};
use jixiao_store::User;

use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct Actor {
    /// The account; `None` for an API token without one, the command line or a job.
    pub user: Option<User>,
    /// The name written into audit entries: the username, `api:<token name>`, `cli`…
    pub name: String,
    pub display_name: String,
    pub unit_id: Option<String>,
    pub grants: Vec<Grant>,
    /// The API token, when acting with one.
    pub token_id: Option<i64>,
}

impl Actor {
    /// The permission check, for every use case and every unit id a request names.
    pub fn require(&self, action: Action, target: Target<'_>) -> Result<(), AppError> {
        if self.can(action, target) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    pub fn can(&self, action: Action, target: Target<'_>) -> bool {
        allows(&self.grants, action, target)
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.id)
    }

    pub fn roles(&self) -> Vec<Role> {
        let mut roles: Vec<Role> = self.grants.iter().map(|g| g.role).collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// The command line or a job: no account, no token. Only the command line gives
    /// administrative roles (三权分立: whoever runs it already holds the server).
    pub fn is_command_line(&self) -> bool {
        self.user.is_none() && self.token_id.is_none()
    }

    pub fn must_change_password(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.must_change_password)
    }

    /// An account with its stored grants.
    pub fn of_user(user: User, grants: Vec<Grant>) -> Actor {
        Actor {
            name: user.username.clone(),
            display_name: user.display_name.clone(),
            unit_id: user.unit_id.clone(),
            user: Some(user),
            grants,
            token_id: None,
        }
    }

    /// The command line or a background job acting as `role` over every unit, under
    /// `name` in the audit log. Local operators reach the database directly anyway;
    /// acting through a role keeps every rule of the use case (closed months,
    /// workflow) in force for them too.
    pub fn system(name: &str, role: Role) -> Actor {
        Actor {
            user: None,
            name: name.to_string(),
            display_name: name.to_string(),
            unit_id: None,
            grants: vec![Grant { role, scope: Scope::All }],
            token_id: None,
        }
    }
}

/// Grants as stored; a grant whose role or scope cannot be read is dropped (and
/// logged) rather than widened.
pub fn grants_of(rows: Vec<jixiao_store::RoleGrant>) -> Vec<Grant> {
    rows.into_iter()
        .filter_map(|g| match (g.role.parse::<Role>(), Scope::from_json(&g.scope)) {
            (Ok(role), Ok(scope)) => Some(Grant { role, scope }),
            (role, scope) => {
                tracing::warn!(role = g.role, ?role, ?scope, "ignoring an unreadable role grant");
                None
            }
        })
        .collect()
}
