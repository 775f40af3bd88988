//! The message catalogues: every text a page shows comes from `i18n/zh-CN.toml`
//! (the default) or `i18n/en.toml`, compiled into the binary. Templates call
//! `tr.t("nav.home")`; a key missing from a catalogue shows the key itself, and a test
//! checks that both catalogues have every key the templates and code use.
//!
//! The language is the user's setting once signed in; before that, the `jx_lang`
//! cookie, then the browser's `Accept-Language`.

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

pub(crate) fn catalogue(lang: Lang) -> &'static Catalogue {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// A translator for one language, handed to every template as `tr`.
#[derive(Debug, Clone, Copy)]
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

    /// The text of `key` with `{0}`, `{1}`… replaced by `args`.
    pub fn f(&self, key: &str, args: &[&dyn std::fmt::Display]) -> String {
        let mut text = self.t(key).to_string();
        for (i, arg) in args.iter().enumerate() {
            text = text.replace(&format!("{{{i}}}"), &arg.to_string());
        }
        text
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

    const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

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
    fn every_key_used_in_templates_and_code_exists() {
        let mut missing = Vec::new();
        let dirs = [concat!(env!("CARGO_MANIFEST_DIR"), "/templates"), concat!(env!("CARGO_MANIFEST_DIR"), "/src")];
        let mut files = Vec::new();
        for dir in dirs {
            collect_files(std::path::Path::new(dir), &mut files);
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for key in used_keys(&text) {
                for lang in ALL {
                    if !catalogue(lang).contains_key(&key) {
                        missing.push(format!("{} in {}: {key}", lang.tag(), file.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "keys missing from the catalogues:\n{}", missing.join("\n"));
    }

    fn collect_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "html" || e == "rs") && !path.ends_with("i18n.rs") {
                out.push(path);
            }
        }
    }

    /// Keys written literally as `t("…")` or `f("…"`.
    fn used_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for pattern in ["t(\"", "f(\""] {
            let mut rest = text;
            while let Some(i) = rest.find(pattern) {
                let after = &rest[i + pattern.len()..];
                let preceded_by_ident = rest[..i].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_');
                if let Some(end) = after.find('"') {
                    let key = &after[..end];
                    if !preceded_by_ident && key.contains('.') && !key.contains(['{', ' ']) {
                        keys.push(key.to_string());
                    }
                }
                rest = after;
            }
        }
        keys
    }

    #[test]
    fn language_negotiation() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,zh;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9"), Some(Lang::Zh));
        assert_eq!(Lang::from_accept_language("fr-FR"), None);
        assert_eq!(Tr::new(Lang::En).t("no.such.key"), "no.such.key");
    }
}
