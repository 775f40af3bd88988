//! Citizens' secrets (个人信息保护): the query password of a request and the SMS that
//! carries it.
//!
//! The query password is not random and kept: it is derived from the request's token
//! with the lookup key of the key file (`HMAC-SM3(lookup, "jixiao query password v1\n"
//! ‖ token)`, its first 8 bytes written as `core::service::query_password`), so it can
//! be computed again when the SMS is sent and is never stored. What the database keeps
//! is a keyed hash of it (`hmac-sm3:` + HMAC-SM3 under the lookup key), fit for a
//! random system-issued secret: without the key file neither the password nor a guess
//! can be checked against it. Requests from before keys keep their argon2 hash, which
//! is still checked.
//!
//! The SMS of a new request is queued with the placeholder `{password}` in its text
//! (`PLACEHOLDER`); the sender fills it in at send time (`text_of`). The outbox, its
//! page and its rows never hold the password.

use jixiao_store::{Message, ServiceRequest};

use crate::App;
use crate::error::{AppError, Result};

/// Where the query password goes in a queued SMS.
pub const PLACEHOLDER: &str = "{password}";

/// Prefix of keyed query-password hashes.
const KEYED: &str = "hmac-sm3:";

fn lookup_key(app: &App) -> Result<[u8; 32]> {
    Ok(*app.store.keys().ok_or_else(|| AppError::internal("the store was opened without the key file"))?.lookup())
}

/// The query password of the request with `token`.
pub fn query_password(app: &App, token: &str) -> Result<String> {
    let mac = jixiao_store::hmac_sm3(&lookup_key(app)?, format!("jixiao query password v1\n{token}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&mac[..8]);
    Ok(jixiao_core::service::query_password(bytes))
}

/// The keyed hash of a query password, as stored.
pub fn password_hash(app: &App, password: &str) -> Result<String> {
    let mac = jixiao_store::hmac_sm3(&lookup_key(app)?, format!("jixiao query password hash v1\n{password}").as_bytes());
    Ok(format!("{KEYED}{}", hex::encode(mac)))
}

/// Whether `password` is the query password of `request` (`None`: an unknown case,
/// checked against nothing in the same time).
pub async fn password_matches(app: &App, request: Option<&ServiceRequest>, password: &str) -> Result<bool> {
    let stored = request.map(|r| r.password_hash.as_str());
    match stored {
        Some(h) if !h.starts_with(KEYED) => Ok(jixiao_store::check_secret(password, Some(h)).await?),
        _ => {
            let typed = password_hash(app, password)?;
            let expected = stored.unwrap_or("hmac-sm3:none");
            let same: bool = subtle::ConstantTimeEq::ct_eq(typed.as_bytes(), expected.as_bytes()).into();
            Ok(same && stored.is_some())
        }
    }
}

/// The text of a message as sent: the query password filled in for the SMS of a new
/// request (found by the message's key `service:<case>:received`).
pub async fn text_of(app: &App, m: &Message) -> Result<String> {
    if !m.body.contains(PLACEHOLDER) {
        return Ok(m.body.clone());
    }
    let case = m.dedupe_key.as_deref().and_then(|k| k.strip_prefix("service:")).and_then(|k| k.strip_suffix(":received"));
    let Some(request) = (match case {
        Some(case) => app.store.service_request_by_case(case).await?,
        None => None,
    }) else {
        return Err(AppError::internal(format!("message {} names no request to fill its password from", m.id)));
    };
    Ok(m.body.replace(PLACEHOLDER, &query_password(app, &request.token)?))
}
