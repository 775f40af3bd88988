//! Bounds of the texts people type (输入长度): every name, reason, note, reply,
//! description and scheme text a use case accepts has a largest length, checked here
//! where the use case validates its input, and refused with a message naming the
//! field (its label in the catalogues) and the limit. The web's edge check
//! (`web::edge`) refuses control characters and has a looser backstop for every
//! field; these are the limits that mean something to the office.

use crate::error::{AppError, Result};
use crate::i18n::Tr;

/// Names and titles: a unit, a group, a bulletin, a token, a node of the scheme.
pub const NAME: usize = 100;
/// One-line reasons and notes: a return, a jump, a correction, a decision, a version.
pub const REASON: usize = 500;
/// Texts of several sentences: a citizen's description, a reply, a comment, a note on
/// a request.
pub const TEXT: usize = 2_000;
/// Texts of the scheme editor and the calendar: a formula, fields, params, assignments,
/// pasted targets, lists of days.
pub const SCHEME_TEXT: usize = 20_000;

/// Whether `text` has at most `max` characters.
pub fn fits(text: &str, max: usize) -> bool {
    text.len() <= max || text.chars().count() <= max
}

/// The message for a text over its limit: the field's label (`field.<key>` in the
/// catalogues), the limit, and how long it is.
pub fn too_long(tr: &Tr, field: &str, max: usize, text: &str) -> String {
    tr.f("input.field_too_long", &[&tr.t(&format!("field.{field}")), &max, &text.chars().count()])
}

/// `Ok` if `text` has at most `max` characters, else the refusal naming `field`.
pub fn bounded(tr: &Tr, field: &str, text: &str, max: usize) -> Result<()> {
    if fits(text, max) { Ok(()) } else { Err(AppError::invalid_with(too_long(tr, field, max, text), serde_json::json!({"field": field}))) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;

    #[test]
    fn a_text_over_its_limit_is_refused_naming_the_field() {
        let tr = Tr::new(Lang::Zh);
        assert!(bounded(&tr, "reason", &"字".repeat(REASON), REASON).is_ok());
        let e = bounded(&tr, "reason", &"字".repeat(REASON + 1), REASON).unwrap_err();
        assert_eq!(e.to_string(), "“原因”过长：最多 500 个字，现有 501 个。");
        let e = bounded(&Tr::new(Lang::En), "title", &"a".repeat(200_000), NAME).unwrap_err();
        assert_eq!(e.to_string(), "“Title” is too long: at most 100 characters, 200000 given.");
    }
}
