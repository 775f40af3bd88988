//! The message catalogues (消息目录): every text a person reads — pages, exports, SMS,
//! messages of refused input — comes from `i18n/zh-CN.toml` (the default) or
//! `i18n/en.toml`, compiled into the binary. Code and templates call
//! `tr.t("nav.home")` or `tr.f("key", &[args])`; a key missing from a catalogue shows
//! the key itself, and tests check that both catalogues have the same keys and every
//! key the code and templates use (the web crate's test reads both crates).
//!
//! Jobs and messages to citizens speak the default language; a signed-in user reads
//! their own (the web decides it from the account, a cookie or the browser).

use std::collections::HashMap;
use std::sync::LazyLock;

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The BCP 47 tag, as stored in `users.language` and written in `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag.starts_with("zh") {
            Some(Lang::Zh)
        } else if tag.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first supported language of an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header.split(',').find_map(|part| Lang::from_tag(part.split(';').next().unwrap_or("")))
    }
}

type Catalogue = HashMap<String, String>;

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
    for (key, value) in table {
        let key = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

fn parse(name: &str, text: &str) -> Catalogue {
    // The catalogues are part of the binary; a broken one is a build defect that the
    // tests catch, so failing loudly at first use is right.
    let table: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("message catalogue {name}: {e}"));
    let mut out = Catalogue::new();
    flatten("", &table, &mut out);
    out
}

static ZH: LazyLock<Catalogue> = LazyLock::new(|| parse("zh-CN", include_str!("../i18n/zh-CN.toml")));
static EN: LazyLock<Catalogue> = LazyLock::new(|| parse("en", include_str!("../i18n/en.toml")));

fn catalogue(lang: Lang) -> &'static Catalogue {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// A translator for one language, handed to every template as `tr`; the default
/// speaks the default language (messages to citizens, jobs).
#[derive(Debug, Clone, Copy, Default)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// The text of `key`, or the key itself when the catalogue lacks it.
    pub fn t<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        catalogue(self.lang).get(key).map(String::as_str).unwrap_or(key)
    }

    /// The text of `key`, `None` when the catalogue lacks it (for keys that arrive
    /// from outside, such as a flash message named in a URL).
    pub fn get(&self, key: &str) -> Option<&'static str> {
        catalogue(self.lang).get(key).map(String::as_str)
    }

    /// The text of `key` with `{0}`, `{1}`… replaced by `args`, in one pass: an
    /// argument that itself contains `{1}` stays as it is.
    pub fn f(&self, key: &str, args: &[&dyn std::fmt::Display]) -> String {
        let template = self.t(key);
        let mut out = String::with_capacity(template.len() + 16 * args.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let index = after.find('}').and_then(|close| after[..close].parse::<usize>().ok().map(|i| (i, close)));
            match index.and_then(|(i, close)| args.get(i).map(|a| (a, close))) {
                Some((arg, close)) => {
                    out.push_str(&arg.to_string());
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The name of an audit object type (`user`, `entry`…) in this language; an
    /// unknown type shows as it is stored.
    pub fn object<'a>(&self, object_type: &'a str) -> &'a str {
        let key = format!("object.{object_type}");
        catalogue(self.lang).get(&key).map(String::as_str).unwrap_or(object_type)
    }

    /// The name of a role in this language.
    pub fn role<'a>(&self, role: &'a str) -> &'a str {
        let key = format!("role.{role}");
        catalogue(self.lang).get(&key).map(String::as_str).unwrap_or(role)
    }

    pub fn tag(&self) -> &'static str {
        self.lang.tag()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let zh: std::collections::BTreeSet<_> = ZH.keys().collect();
        let en: std::collections::BTreeSet<_> = EN.keys().collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "only in zh-CN: {only_zh:?}; only in en: {only_en:?}");
        assert!(zh.len() > 50, "the catalogues hold the interface's texts");
    }

    #[test]
    fn language_negotiation() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,zh;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9"), Some(Lang::Zh));
        assert_eq!(Lang::from_accept_language("fr-FR"), None);
        assert_eq!(Tr::new(Lang::En).t("no.such.key"), "no.such.key");
    }

    #[test]
    fn arguments_are_substituted_once() {
        let tr = Tr::new(Lang::En);
        let key = "list.summary";
        let template = tr.t(key);
        assert!(template.contains("{0}") && template.contains("{1}"), "{template}");
        let text = tr.f(key, &[&"{1}", &2, &3]);
        assert!(text.contains("{1}") && text.contains('2') && !text.contains("{0}"), "{text}");
    }
}
