//! The CAPTCHA (验证码) of the public forms: a picture of five characters drawn on the
//! server (the `captcha` crate, no audio, no outside service), shown inline as a PNG
//! data URL, so the form works without JavaScript and within the CSP
//! (`img-src 'self' data:`).
//!
//! Each form shown gets its own challenge: a random token in a hidden field, and in
//! the database (`store::captchas`) the SHA-256 of that token, the form it belongs to
//! (`purpose`), the answer and an expiry ten minutes later. A submission takes the
//! challenge of its token — deleted whether the answer is right or wrong — so a token
//! answers once, in whichever process, and guessing needs a new picture each time.
//! The answer is compared case-insensitively in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::App;
use crate::error::Result;

/// How long a challenge may be answered.
pub const LIFETIME_MINUTES: i64 = 10;
/// Characters in a picture.
const LENGTH: usize = 5;
/// The characters drawn: capital letters and digits the crate's font has, without
/// those easily taken for another (0/O, 1/I/L are not in the font; Q looks like O).
const CHARS: &[char] = &[
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'M', 'N', 'P', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', '2', '3', '4', '5', '6',
    '7', '8', '9',
];

/// A challenge to show: the token the form carries, and the picture as a data URL.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub token: String,
    pub image: String,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Draws a picture of random characters: (answer, PNG).
fn draw() -> Option<(String, Vec<u8>)> {
    use captcha::filters::{Dots, Noise, Wave};
    let mut c = captcha::Captcha::new();
    c.set_chars(CHARS)
        .add_chars(LENGTH as u32)
        .apply_filter(Noise::new(0.1))
        .apply_filter(Wave::new(2.0, 16.0).horizontal())
        .view(200, 70)
        .apply_filter(Dots::new(4));
    let answer = c.chars_as_string();
    (answer.chars().count() == LENGTH).then_some(())?;
    Some((answer, c.as_png()?))
}

/// A new challenge for the form `purpose`.
pub async fn challenge(app: &App, purpose: &str) -> Result<Challenge> {
    let (answer, png) = tokio::task::spawn_blocking(draw)
        .await
        .map_err(|e| crate::AppError::Internal(format!("drawing a CAPTCHA: {e}")))?
        .ok_or_else(|| crate::AppError::Internal("the CAPTCHA could not be drawn".into()))?;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator");
    let token = hex::encode(bytes);
    let expires = jixiao_store::timestamp(app.clock.now() + chrono::Duration::minutes(LIFETIME_MINUTES));
    app.store.add_captcha(&token_hash(&token), purpose, &answer, &expires).await?;
    use base64::Engine;
    let image = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png));
    Ok(Challenge { token, image })
}

/// Whether `answer` solves the challenge of `token` for the form `purpose`. The
/// challenge is used up either way.
pub async fn solved(app: &App, purpose: &str, token: &str, answer: &str) -> Result<bool> {
    let token = token.trim();
    if token.is_empty() || token.len() > 100 {
        return Ok(false);
    }
    let now = jixiao_store::timestamp(app.clock.now());
    let Some(expected) = app.store.take_captcha(&token_hash(token), purpose, &now).await? else { return Ok(false) };
    let given: String = answer.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    Ok(bool::from(given.as_bytes().ct_eq(expected.to_uppercase().as_bytes())))
}

/// Removes expired challenges (the hourly purge); how many.
pub async fn purge(app: &App) -> Result<u64> {
    Ok(app.store.purge_captchas(&jixiao_store::timestamp(app.clock.now())).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_picture_has_five_known_characters_and_is_a_png() {
        let (answer, png) = super::draw().unwrap();
        assert_eq!(answer.chars().count(), 5);
        assert!(answer.chars().all(|c| super::CHARS.contains(&c)), "{answer}");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
