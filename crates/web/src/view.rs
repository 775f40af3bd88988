//! What every page shares: the frame around it (`Chrome`: header with the system
//! name and the viewer's unit and roles, the menu of what the viewer may open,
//! breadcrumbs, the flash message), and sorting and pagination of tables, done on
//! the server so they work without JavaScript.

use jixiao_app::{Lang, Tr};
use serde::Deserialize;

use crate::AppState;
use crate::access::access_of;
use crate::auth::Viewer;

pub use jixiao_app::text::number;

/// Pages rendered once and kept, by a key their handler makes: content that never
/// changes once made (a published bulletin) is not rendered again for every reader.
/// Bounded: cleared when it holds 256 renderings.
#[derive(Default)]
pub struct Rendered {
    pages: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<dyn std::any::Any + Send + Sync>>>,
}

/// A poisoned cache (a thread panicked while holding it).
pub struct Poisoned;

impl Rendered {
    pub fn get<T: Send + Sync + 'static>(&self, key: &str) -> Result<Option<std::sync::Arc<T>>, Poisoned> {
        let pages = self.pages.lock().map_err(|_| Poisoned)?;
        Ok(pages.get(key).and_then(|p| p.clone().downcast::<T>().ok()))
    }

    pub fn put<T: Send + Sync + 'static>(&self, key: String, page: std::sync::Arc<T>) -> Result<(), Poisoned> {
        let mut pages = self.pages.lock().map_err(|_| Poisoned)?;
        if pages.len() >= 256 {
            pages.clear();
        }
        pages.insert(key, page);
        Ok(())
    }
}

/// One entry of the menu.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// The menu: (path, catalogue key). An entry shows only when the viewer passes the
/// access rule of its route in the route table.
const MENU: [(&str, &str); 22] = [
    ("/", "nav.home"),
    ("/units", "nav.units"),
    ("/scores", "nav.scores"),
    ("/schemes", "nav.schemes"),
    ("/reports", "nav.reports"),
    ("/bulletins", "nav.bulletins"),
    ("/records", "records.nav"),
    ("/periods", "nav.periods"),
    ("/supervision/dashboard", "supervision.nav_dashboard"),
    ("/supervision", "supervision.nav"),
    ("/service/dispatch", "nav.service_dispatch"),
    ("/service/queue", "nav.service_queue"),
    ("/service/categories", "nav.service_categories"),
    ("/service/outbox", "nav.service_outbox"),
    ("/service/keys", "nav.service_keys"),
    ("/audit", "nav.audit"),
    ("/admin/users", "nav.users"),
    ("/admin/units", "nav.org"),
    ("/admin/tokens", "nav.tokens"),
    ("/admin/settings", "nav.settings"),
    ("/admin/security", "identity.security_policy"),
    ("/account", "nav.account"),
];

/// The viewer as the header shows them.
pub struct Who {
    pub display_name: String,
    pub unit_name: Option<String>,
    pub roles: Vec<String>,
}

/// The frame of a page.
pub struct Chrome {
    pub tr: Tr,
    pub title: String,
    pub who: Option<Who>,
    pub nav: Vec<NavItem>,
    /// (label, link); the last one is the current page.
    pub crumbs: Vec<(String, String)>,
    pub flash: Option<String>,
    /// The token every form of the page carries.
    pub csrf: String,
    /// Where the language switch returns to.
    pub here: String,
}

impl Chrome {
    /// The frame for `viewer` on the page at `here`, titled by the catalogue key
    /// `title`, with `crumbs` between the home page and this one.
    pub async fn new(
        state: &AppState,
        viewer: Option<&Viewer>,
        lang: Lang,
        here: &str,
        title: &str,
        crumbs: Vec<(String, String)>,
        flash: Option<&str>,
    ) -> Chrome {
        let mut chrome = Chrome::plain(viewer, lang, here, title);
        if let (Some(who), Some(unit)) = (chrome.who.as_mut(), viewer.and_then(|v| v.unit_id.as_ref())) {
            who.unit_name = state.store.unit(unit).await.ok().map(|u| u.name);
        }
        let current = chrome.crumbs.split_off(1);
        chrome.crumbs.extend(crumbs);
        chrome.crumbs.extend(current);
        chrome.flash = flash_text(lang, flash);
        chrome
    }

    /// The frame without anything read from the database (error pages).
    pub fn plain(viewer: Option<&Viewer>, lang: Lang, here: &str, title: &str) -> Chrome {
        let tr = Tr::new(lang);
        let title = tr.t(title).to_string();
        let mut crumbs = vec![(tr.t("nav.home").to_string(), "/".to_string())];
        if !here.is_empty() && here != "/" {
            crumbs.push((title.clone(), here.to_string()));
        }
        let (who, nav, csrf) = match viewer {
            Some(v) => {
                let roles = v.roles().into_iter().map(|r| tr.role(r.code()).to_string()).collect();
                let nav = MENU
                    .iter()
                    .filter(|(href, _)| access_of("GET", href).is_some_and(|a| a.passes(v)))
                    .map(|&(href, label)| NavItem { href, label: tr.t(label), active: menu_entry_of(here) == href })
                    .collect();
                let who = Who { display_name: v.display_name.clone(), unit_name: None, roles };
                (Some(who), nav, v.csrf().to_string())
            }
            None => (None, Vec::new(), String::new()),
        };
        Chrome { tr, title, who, nav, crumbs, flash: None, csrf, here: here.to_string() }
    }

    /// Sets the CSRF token for forms shown before login.
    pub fn with_csrf(mut self, token: String) -> Chrome {
        self.csrf = token;
        self
    }
}

/// The menu entry a page belongs to: the longest entry its path starts with, except
/// that a unit's monthly form belongs to reporting, not to the unit list.
fn menu_entry_of(here: &str) -> &'static str {
    if here.starts_with("/units/") && here.contains("/report/") {
        return "/reports";
    }
    MENU.iter()
        .map(|(href, _)| *href)
        .filter(|href| if *href == "/" { here == "/" } else { here == *href || here.starts_with(&format!("{href}/")) })
        .max_by_key(|href| href.len())
        .unwrap_or("")
}

/// The text of a flash message named in the URL (`?flash=saved`). Only catalogue keys
/// under `flash.` are shown, so a link cannot put arbitrary text on a page.
fn flash_text(lang: Lang, key: Option<&str>) -> Option<String> {
    let key = key?;
    // A dot reaches a subsystem's own section (`flash.records.registered`).
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        return None;
    }
    Tr::new(lang).get(&format!("flash.{key}")).map(str::to_string)
}

/// Errors of a form, by field name, shown next to the fields.
pub type FieldErrors = jixiao_app::accounts::FieldErrors;

/// The query of a list page: sorting, page, search text, flash.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<usize>,
    pub q: Option<String>,
    pub flash: Option<String>,
}

impl ListQuery {
    pub fn descending(&self) -> bool {
        self.dir.as_deref() == Some("desc")
    }

    pub fn search(&self) -> Option<String> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase)
    }
}

/// A sortable column header.
pub struct Column {
    pub label: String,
    pub href: String,
    /// `""`, `"asc"` or `"desc"`: how the table is sorted by this column now.
    pub sorted: &'static str,
}

/// Headers for `columns` (key, catalogue key) of a table at `path`; clicking a
/// header sorts by it, clicking again reverses. `extra` keeps other query pairs.
pub fn columns(tr: &Tr, path: &str, query: &ListQuery, columns: &[(&str, &str)], extra: &[(&str, String)]) -> Vec<Column> {
    columns
        .iter()
        .map(|&(key, label)| {
            let active = query.sort.as_deref() == Some(key);
            let next_dir = if active && !query.descending() { "desc" } else { "asc" };
            let mut pairs: Vec<(&str, String)> = vec![("sort", key.to_string()), ("dir", next_dir.to_string())];
            pairs.extend(extra.iter().cloned());
            Column {
                label: tr.t(label).to_string(),
                href: format!("{path}?{}", query_string(&pairs)),
                sorted: match (active, query.descending()) {
                    (false, _) => "",
                    (true, false) => "asc",
                    (true, true) => "desc",
                },
            }
        })
        .collect()
}

/// Sorts `items` by the query's column with `key_of` giving each item's sort key for
/// a column name; an unknown column keeps the order.
pub fn sort_by<T>(items: &mut [T], query: &ListQuery, key_of: impl Fn(&T, &str) -> Option<String>) {
    let Some(column) = query.sort.as_deref() else { return };
    items.sort_by(|a, b| {
        let ord = key_of(a, column).cmp(&key_of(b, column));
        if query.descending() { ord.reverse() } else { ord }
    });
}

/// One page of a list.
pub struct Pager {
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// "共 120 条，第 3/3 页".
    pub fn summary(&self, tr: &Tr) -> String {
        tr.f("list.summary", &[&self.total, &self.page, &self.pages])
    }
}

pub const PER_PAGE: usize = 50;

/// The `page` (1-based) of `items`, with links that keep the other query pairs.
pub fn paginate<T>(items: Vec<T>, page: usize, path: &str, keep: &[(&str, String)]) -> (Vec<T>, Pager) {
    let total = items.len();
    let (rows, pager) = page_of(total, page, path, keep);
    let start = (pager.page - 1) * PER_PAGE;
    (items.into_iter().skip(start).take(rows).collect(), pager)
}

/// The pager of a list of `total` rows counted elsewhere (e.g. by the database), and
/// how many rows the page holds.
pub fn page_of(total: usize, page: usize, path: &str, keep: &[(&str, String)]) -> (usize, Pager) {
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let link = |p: usize| {
        let mut pairs = keep.to_vec();
        pairs.push(("page", p.to_string()));
        format!("{path}?{}", query_string(&pairs))
    };
    let rows = PER_PAGE.min(total.saturating_sub((page - 1) * PER_PAGE));
    let pager = Pager { page, pages, total, prev: (page > 1).then(|| link(page - 1)), next: (page < pages).then(|| link(page + 1)) };
    (rows, pager)
}

/// `a=1&b=x%20y`, skipping empty values.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode_query_value(v))).collect::<Vec<_>>().join("&")
}

/// Percent-encodes a query value.
pub fn encode_query_value(value: &str) -> String {
    jixiao_app::text::url_encode(value)
}

/// The one rule for where a redirect may go that came from the request (`?next=`,
/// `back`): a path on this site, or the home page. Browsers read `//host`, `/\host`
/// and backslashes anywhere as another site, and control characters can split a
/// header: all refused.
pub fn local_path(text: Option<&str>) -> String {
    match text {
        Some(t)
            if t.starts_with('/')
                && !t.starts_with("//")
                && !t.contains('\\')
                && !t.chars().any(char::is_control)
                && !t.contains("/%2f")
                && !t.to_ascii_lowercase().starts_with("/%2f")
                && !t.to_ascii_lowercase().starts_with("/%5c") =>
        {
            t.to_string()
        }
        _ => "/".to_string(),
    }
}

/// A redirect to `target` built from request input (a path parameter, `?next=`): only
/// to a path on this site (`local_path`), and with every byte a header cannot carry
/// (spaces, non-ASCII text of an id) percent-encoded, so it never panics or splits.
pub fn redirect_to(target: &str) -> axum::response::Redirect {
    let path = local_path(Some(target));
    let encoded: String = path.bytes().map(|b| if b.is_ascii_graphic() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    axum::response::Redirect::to(&encoded)
}

/// The query pairs that a list keeps across pages: sort, direction, search.
pub fn kept(query: &ListQuery) -> Vec<(&'static str, String)> {
    vec![
        ("sort", query.sort.clone().unwrap_or_default()),
        ("dir", query.dir.clone().unwrap_or_default()),
        ("q", query.q.clone().unwrap_or_default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every catalogue key written literally in the templates and the code of this
    /// crate and of the app exists in both catalogues.
    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [root.join("templates"), root.join("src"), root.join("../app/src")] {
            collect_files(&dir, &mut files);
        }
        let mut missing = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for key in used_keys(&text) {
                for lang in [Lang::Zh, Lang::En] {
                    if Tr::new(lang).get(&key).is_none() {
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
    fn pagination_bounds() {
        let (rows, p) = paginate((0..120).collect::<Vec<_>>(), 3, "/x", &[("q", "a b".into())]);
        assert_eq!(rows, (100..120).collect::<Vec<_>>());
        assert_eq!((p.page, p.pages, p.total), (3, 3, 120));
        assert_eq!(p.prev.as_deref(), Some("/x?q=a+b&page=2"));
        assert!(p.next.is_none());
        let (rows, p) = paginate(Vec::<u8>::new(), 9, "/x", &[]);
        assert!(rows.is_empty());
        assert_eq!((p.page, p.pages), (1, 1));
        let (rows, p) = paginate((0..60).collect::<Vec<_>>(), 0, "/x", &[]);
        assert_eq!((rows.len(), p.page), (50, 1));
    }

    #[test]
    fn redirects_stay_on_this_site() {
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "https://evil.example",
            "evil",
            "/a\r\nSet-Cookie: x",
            "/%2f%2fevil",
            "/%5cevil",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(local_path(Some("/units/u01?x=1")), "/units/u01?x=1");
        assert_eq!(local_path(None), "/");
        let location = |t: &str| {
            let r = axum::response::IntoResponse::into_response(redirect_to(t));
            r.headers()["location"].to_str().unwrap().to_string()
        };
        assert_eq!(location("//evil.example/x?flash=saved"), "/");
        assert_eq!(location("/service/categories/路 灯?flash=saved"), "/service/categories/%E8%B7%AF%20%E7%81%AF?flash=saved");
    }

    #[test]
    fn flash_only_from_the_catalogue() {
        assert!(flash_text(Lang::Zh, Some("saved")).is_some());
        assert_eq!(flash_text(Lang::Zh, Some("<script>")), None);
        assert_eq!(flash_text(Lang::Zh, Some("no_such_flash")), None);
    }

    #[test]
    fn sorting_toggles() {
        let tr = Tr::new(Lang::En);
        let q = ListQuery { sort: Some("name".into()), ..ListQuery::default() };
        let cols = columns(&tr, "/u", &q, &[("name", "field.name"), ("id", "field.id")], &[]);
        assert_eq!(cols[0].href, "/u?sort=name&dir=desc");
        assert_eq!(cols[0].sorted, "asc");
        assert_eq!(cols[1].href, "/u?sort=id&dir=asc");
        let mut v = vec!["b", "a", "c"];
        sort_by(&mut v, &q, |s, _| Some(s.to_string()));
        assert_eq!(v, ["a", "b", "c"]);
    }
}
