//! The citizen's pages, open to everyone: filing a request and following it.
//!
//! The form posts as `multipart/form-data` (it may carry a photo), so its CSRF token
//! travels in the query string (`?_csrf=`), checked against the `jx_csrf` cookie
//! (double submit) like the login form. A refused form is shown again with every
//! problem named and everything typed kept (except the photo and the CAPTCHA).
//!
//! Against floods (each request sends an SMS to the phone it names), a citizen's form
//! carries a CAPTCHA (`app::captcha`: a picture drawn on the server, single use,
//! ten minutes), and this process counts per client address the forms shown
//! (`captchas_per_minute`) and submitted (`service_requests_per_hour`), and per phone
//! number the requests filed (`service_requests_per_phone_per_hour`); over a limit the
//! form comes back with 429 and says which. The daily SMS cap per number holds behind
//! all of these, in the database (`app::service::sms`). An operator of the office
//! signed in, taking a call, is asked none of this. The query page is
//! rate-limited per client address; an unknown case number and a wrong password
//! get the same answer after the same work, and the page shows only the public
//! history of that one request: states, times, the reply — never staff names or
//! internal notes.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use jixiao_store::ServiceRequest;
use serde::Deserialize;

use super::{CategoryRow, category_rows};
use crate::AppState;
use crate::auth::Language;
use crate::error::WebError;
use crate::pages::login::anonymous_csrf;
use crate::pages::render;
use crate::security::ClientIp;
use crate::view::Chrome;
use jixiao_app::captcha;
use jixiao_app::service::{intake, requests};
use jixiao_app::{Lang, Tr};

/// The largest request form read (photo included); the photo's own limit is
/// `service_photo_bytes` (5 MB by default), refused with a message on the form.
pub const MAX_FORM_BYTES: usize = 12 * 1024 * 1024;

#[derive(Template)]
#[template(path = "service/form.html")]
struct FormPage {
    chrome: Chrome,
    /// Signed in as the office: the operator's form (channel phone or community).
    operator: bool,
    categories: Vec<CategoryRow>,
    form: FormValues,
    errors: Vec<(String, String)>,
    /// The CAPTCHA of a citizen's form (none for an operator).
    captcha: Option<captcha::Challenge>,
}

/// What the citizen typed, kept when the form is refused.
#[derive(Default, Clone)]
pub struct FormValues {
    pub service_code: String,
    pub description: String,
    pub address: String,
    pub lat: String,
    pub long: String,
    pub phone: String,
    pub name: String,
    /// `web`, or for an operator `phone` (呼叫中心) or `community` (社区).
    pub channel: String,
}

#[derive(Template)]
#[template(path = "service/taken.html")]
struct TakenPage {
    chrome: Chrome,
    case_no: String,
    password: String,
}

/// The purpose a CAPTCHA of this form is bound to.
const CAPTCHA_PURPOSE: &str = "service";

/// Who is filling the form in, and from where.
struct Filer<'a> {
    viewer: Option<&'a crate::auth::Viewer>,
    ip: ClientIp,
    lang: Lang,
}

async fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    who: &Filer<'_>,
    form: FormValues,
    errors: Vec<(String, String)>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let viewer = who.viewer;
    let operator = viewer.is_some_and(is_operator);
    // Each citizen's form shown draws a picture and stores a challenge: bounded per address.
    let captcha = if operator {
        None
    } else if state.captcha_limiter.attempt(who.ip.0) {
        Some(captcha::challenge(state, CAPTCHA_PURPOSE).await?)
    } else {
        return Err(WebError::TooManyRequests);
    };
    let (jar, token) = anonymous_csrf(state, headers, jar);
    let mut chrome = Chrome::new(state, viewer, who.lang, "/service", "service.title", vec![], None).await;
    if viewer.is_none() {
        chrome = chrome.with_csrf(token);
    }
    let categories = category_rows(&state.store.service_categories(false).await?);
    Ok((status, jar, render(FormPage { chrome, operator, categories, form, errors, captcha })?).into_response())
}

/// Whether the viewer takes requests for citizens (the office's call centre 呼叫中心
/// and community offices 社区 enter them for the citizen).
fn is_operator(viewer: &crate::auth::Viewer) -> bool {
    viewer.can(jixiao_core::org::Action::DispatchServiceRequests, jixiao_core::org::Target::Nothing)
}

/// `GET /service`: the request form (for the office, the operator's form).
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    viewer: Option<crate::auth::Viewer>,
    ip: ClientIp,
    Language(lang): Language,
) -> Result<Response, WebError> {
    let who = Filer { viewer: viewer.as_ref(), ip, lang };
    form_page(&state, &headers, jar, &who, FormValues::default(), Vec::new(), StatusCode::OK).await
}

/// The key the phone limit counts a number under (its digits, so spacing does not
/// make another number).
fn phone_key(phone: &str) -> String {
    jixiao_store::phone_key(phone).unwrap_or_default()
}

/// `POST /service`: files a request (multipart, optional photo).
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    viewer: Option<crate::auth::Viewer>,
    ip: ClientIp,
    Language(lang): Language,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let who = Filer { viewer: viewer.as_ref(), ip, lang };
    let operator = viewer.as_ref().is_some_and(is_operator);
    if !operator && !state.service_limiter.attempt(ip.0) {
        let message = tr.f("service.error.too_many_address", &[&state.service_limiter.allowed]);
        return form_page(
            &state,
            &headers,
            jar,
            &who,
            FormValues::default(),
            vec![(String::new(), message)],
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let (mut captcha_token, mut captcha_answer) = (String::new(), String::new());
    let mut v = FormValues::default();
    let mut photo: Option<(String, Vec<u8>)> = None;
    let mut problems: Vec<(String, String)> = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| WebError::invalid(tr.t("service.error.form")))? {
        let name = field.name().unwrap_or("").to_string();
        if name == "photo" {
            let filename = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|_| WebError::TooLarge)?;
            if !bytes.is_empty() {
                photo = Some((filename, bytes.to_vec()));
            }
            continue;
        }
        let text = field.text().await.map_err(|_| WebError::invalid(tr.t("service.error.form")))?;
        match name.as_str() {
            "service_code" => v.service_code = text,
            "description" => v.description = text,
            "address" => v.address = text,
            "lat" => v.lat = text,
            "long" => v.long = text,
            "phone" => v.phone = text,
            "name" => v.name = text,
            "channel" => v.channel = text,
            "captcha_token" => captcha_token = text,
            "captcha" => captcha_answer = text,
            _ => {}
        }
    }
    let mut checked_photo = None;
    if let Some((filename, bytes)) = photo {
        match intake::check_photo(&state, &tr, &filename, &bytes) {
            Ok(t) => checked_photo = Some((filename, t, bytes)),
            Err(message) => problems.push(("photo".into(), message)),
        }
    }
    if !operator && !captcha::solved(&state, CAPTCHA_PURPOSE, &captcha_token, &captcha_answer).await? {
        problems.push(("captcha".into(), tr.t("service.error.captcha").to_string()));
    }
    let channel = match (operator, v.channel.as_str()) {
        (true, "phone") => "phone",
        (true, "community") => "community",
        (false, "" | "web") | (true, "" | "web") => "web",
        _ => return Err(WebError::invalid(format!("unknown channel `{}`", v.channel))),
    };
    let input = intake::Intake {
        channel,
        service_code: v.service_code.clone(),
        description: v.description.clone(),
        address: v.address.clone(),
        lat: v.lat.clone(),
        lon: v.long.clone(),
        phone: v.phone.clone(),
        contact_name: v.name.clone(),
        // An operator may take a request from someone without a mobile phone.
        phone_required: !operator,
        ..Default::default()
    };
    let checked = intake::check(&state, &input).await?;
    let new = match checked {
        Ok((_, new)) if problems.is_empty() => new,
        Ok(_) => return form_page(&state, &headers, jar, &who, v, problems, StatusCode::BAD_REQUEST).await,
        Err(p) => {
            problems.extend(p.into_iter().map(|(field, key)| (field.to_string(), tr.t(key).to_string())));
            return form_page(&state, &headers, jar, &who, v, problems, StatusCode::BAD_REQUEST).await;
        }
    };
    // Counted once the form is otherwise good: a number flooded through many addresses.
    if !operator && !state.phone_limiter.attempt(phone_key(&new.phone)) {
        let message = tr.f("service.error.too_many_phone", &[&state.phone_limiter.allowed]);
        return form_page(&state, &headers, jar, &who, v, vec![("phone".into(), message)], StatusCode::TOO_MANY_REQUESTS).await;
    }
    let actor = match (&viewer, operator) {
        (Some(v), true) => v.name.clone(),
        _ => "citizen".to_string(),
    };
    let taken = intake::take(&state, &actor, new, checked_photo).await?;
    let chrome = Chrome::new(&state, viewer.as_ref(), lang, "/service", "service.taken_title", vec![], None).await;
    Ok(render(TakenPage { chrome, case_no: taken.request.case_no, password: taken.password })?.into_response())
}

#[derive(Template)]
#[template(path = "service/query.html")]
struct QueryPage {
    chrome: Chrome,
    case_no: String,
    error: Option<String>,
    found: Option<Found>,
    password: String,
}

/// What the citizen sees of their request.
pub struct Found {
    pub case_no: String,
    pub category: String,
    pub state: String,
    pub state_code: String,
    pub created: String,
    pub description: String,
    pub reply: String,
    pub rating: String,
    pub history: Vec<(String, String, String)>,
    pub can_rate: bool,
}

#[derive(Deserialize, Default)]
pub struct QueryForm {
    #[serde(default)]
    case: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    comment: String,
}

/// What the query page shows: the form, and the request once unlocked.
struct QueryView {
    case_no: String,
    error: Option<String>,
    found: Option<Found>,
    password: String,
}

async fn query_page(
    state: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    viewer: Option<&crate::auth::Viewer>,
    lang: Lang,
    view: QueryView,
) -> Result<Response, WebError> {
    let QueryView { case_no, error, found, password } = view;
    let (jar, token) = anonymous_csrf(state, headers, jar);
    // Signed in (an operator on the phone with a citizen), the session's token applies.
    let mut chrome = Chrome::new(state, viewer, lang, "/service/query", "service.query_title", vec![], None).await;
    if viewer.is_none() {
        chrome = chrome.with_csrf(token);
    }
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok((status, jar, render(QueryPage { chrome, case_no, error, found, password })?).into_response())
}

/// `GET /service/query?case=`: the query form (the SMS link fills in the case).
pub async fn query_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    viewer: Option<crate::auth::Viewer>,
    Language(lang): Language,
    Query(q): Query<QueryForm>,
) -> Result<Response, WebError> {
    query_page(
        &state,
        &headers,
        jar,
        viewer.as_ref(),
        lang,
        QueryView { case_no: q.case, error: None, found: None, password: String::new() },
    )
    .await
}

/// The request of a case number and password, or the one answer for both wrong.
async fn unlock(state: &AppState, ip: ClientIp, lang: Lang, q: &QueryForm) -> Result<Result<ServiceRequest, String>, WebError> {
    let tr = Tr::new(lang);
    if !state.query_limiter.attempt(ip.0) {
        return Err(WebError::TooManyRequests);
    }
    let found = requests::unlock(state, &q.case, &q.password).await?;
    if found.is_none() {
        let event = jixiao_app::audit::SecurityEvent {
            action: "service.query_failed",
            actor: "anonymous",
            ip: &ip.0.to_string(),
            object: &q.case.chars().take(40).collect::<String>(),
            result: "refused",
            detail: serde_json::Value::Null,
        };
        jixiao_app::audit::security_event(state, event).await?;
    }
    Ok(found.ok_or_else(|| tr.t("service.query_wrong").to_string()))
}

async fn found(state: &AppState, tr: &Tr, r: &ServiceRequest) -> Result<Found, WebError> {
    let category = state.store.service_category(&r.service_code).await?.map(|c| c.name).unwrap_or_default();
    let history = state
        .store
        .service_events(r.id)
        .await?
        .into_iter()
        .filter(|e| e.public)
        .map(|e| {
            let text = if e.step == "reply" { e.text } else { String::new() };
            (state.clock.short(&e.at), tr.t(&format!("service.step.{}", e.step)).to_string(), text)
        })
        .collect();
    Ok(Found {
        case_no: r.case_no.clone(),
        category,
        state: tr.t(&format!("service.state.{}", r.state)).to_string(),
        state_code: r.state.clone(),
        created: state.clock.short(&r.created_at),
        description: r.description.clone(),
        reply: r.reply.clone(),
        rating: r.rating.as_deref().map(|x| tr.t(&format!("service.rating.{x}")).to_string()).unwrap_or_default(),
        history,
        can_rate: r.state == "verified",
    })
}

/// `POST /service/query`: case number + password → the request's public history;
/// with `rating`, rates a verified request.
pub async fn query(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    viewer: Option<crate::auth::Viewer>,
    ip: ClientIp,
    Language(lang): Language,
    axum::Form(q): axum::Form<QueryForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let mut request = match unlock(&state, ip, lang, &q).await? {
        Ok(r) => r,
        Err(message) => {
            let view = QueryView { case_no: q.case.clone(), error: Some(message), found: None, password: String::new() };
            return query_page(&state, &headers, jar, viewer.as_ref(), lang, view).await;
        }
    };
    if !q.rating.is_empty() {
        request = requests::rate(&state, &tr, &request, &q.rating, &q.comment).await?;
    }
    let f = found(&state, &tr, &request).await?;
    let view = QueryView { case_no: request.case_no.clone(), error: None, found: Some(f), password: q.password.trim().to_string() };
    query_page(&state, &headers, jar, viewer.as_ref(), lang, view).await
}
