//! Taking in a request (受理), whatever the channel: the public form, the call
//! centre's operator (呼叫中心), a community office (社区) or Open311. The input is
//! checked whole (every problem named by field), the request gets its case number,
//! query password and Open311 token in one transaction with its audit entry, and an
//! SMS with the case number and password is queued for the citizen's phone.

use jixiao_store::{NewMessage, NewServiceRequest, ServiceAttribute, ServiceCategory, ServiceRequest};
use serde_json::{Map, Value, json};

use crate::App;
use crate::error::AppError;
use crate::i18n::Tr;

/// The longest description or attribute value accepted (characters).
pub const MAX_TEXT: usize = crate::input::TEXT;
/// The longest address accepted (characters).
pub const MAX_ADDRESS: usize = 200;
/// The longest contact name accepted (characters).
pub const MAX_NAME: usize = 50;

/// What a channel hands in.
#[derive(Debug, Clone, Default)]
pub struct Intake {
    pub channel: &'static str,
    pub service_code: String,
    pub description: String,
    pub address: String,
    pub lat: String,
    pub lon: String,
    pub phone: String,
    pub contact_name: String,
    /// Attribute code → values (several for a multivaluelist).
    pub attributes: Vec<(String, String)>,
    pub api_key_id: Option<i64>,
    /// Whether a phone number is required (the web form: the SMS is how the citizen
    /// gets the password).
    pub phone_required: bool,
    /// Whether a location (address or lat/long) is required (Open311 requires one).
    pub location_required: bool,
}

/// A problem with one field: (field, message key of the catalogue).
pub type Problem = (&'static str, &'static str);

/// A taken-in request and its query password (shown once).
pub struct Taken {
    pub request: ServiceRequest,
    pub password: String,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random number generator");
    b
}

fn parse_coordinate(text: &str, limit: f64) -> Result<Option<f64>, ()> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => Ok(Some(v)),
        _ => Err(()),
    }
}

/// A mainland mobile or landline number: 5–20 digits, `+`, `-` and spaces allowed.
fn valid_phone(p: &str) -> bool {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&digits) && p.len() <= 30 && p.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
}

/// Checks the attributes against the category's definition.
fn check_attributes(defs: &[ServiceAttribute], given: &[(String, String)], problems: &mut Vec<Problem>) -> Map<String, Value> {
    let mut out = Map::new();
    for (code, _) in given {
        if !defs.iter().any(|d| &d.code == code) {
            problems.push(("attribute", "service.error.unknown_attribute"));
        }
    }
    for d in defs {
        let values: Vec<&str> = given.iter().filter(|(c, _)| c == &d.code).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            if d.required {
                problems.push(("attribute", "service.error.attribute_required"));
            }
            continue;
        }
        let ok = match d.datatype.as_str() {
            "number" => values.len() == 1 && values[0].parse::<f64>().is_ok_and(f64::is_finite),
            "datetime" => values.len() == 1 && chrono::DateTime::parse_from_rfc3339(values[0]).is_ok(),
            "singlevaluelist" => values.len() == 1 && d.values.iter().any(|(k, _)| k == values[0]),
            "multivaluelist" => values.iter().all(|v| d.values.iter().any(|(k, _)| k == v)),
            _ => values.len() == 1 && values[0].chars().count() <= MAX_TEXT,
        };
        if !ok {
            problems.push(("attribute", "service.error.attribute_invalid"));
            continue;
        }
        let value = if d.datatype == "multivaluelist" { json!(values) } else { json!(values[0]) };
        out.insert(d.code.clone(), value);
    }
    out
}

/// Checks the input; the category and the cleaned request, or every problem.
pub async fn check(app: &App, i: &Intake) -> Result<Result<(ServiceCategory, NewServiceRequest), Vec<Problem>>, AppError> {
    let mut problems = Vec::new();
    let category = match app.store.service_category(i.service_code.trim()).await? {
        Some(c) if !c.disabled => Some(c),
        _ => {
            problems.push(("service_code", "service.error.category"));
            None
        }
    };
    let description = i.description.trim();
    if description.is_empty() {
        problems.push(("description", "service.error.description"));
    } else if !crate::input::fits(description, MAX_TEXT) {
        problems.push(("description", "service.error.too_long"));
    }
    if !crate::input::fits(i.address.trim(), MAX_ADDRESS) {
        problems.push(("address", "service.error.address_too_long"));
    }
    if !crate::input::fits(i.contact_name.trim(), MAX_NAME) {
        problems.push(("name", "service.error.name_too_long"));
    }
    let lat = parse_coordinate(&i.lat, 90.0).map_err(|()| problems.push(("lat", "service.error.lat"))).ok().flatten();
    let lon = parse_coordinate(&i.lon, 180.0).map_err(|()| problems.push(("long", "service.error.long"))).ok().flatten();
    if lat.is_some() != lon.is_some() && !problems.iter().any(|p| p.0 == "lat" || p.0 == "long") {
        problems.push(("lat", "service.error.lat_long_pair"));
    }
    if i.location_required && i.address.trim().is_empty() && lat.is_none() {
        problems.push(("address", "service.error.location"));
    }
    let phone = i.phone.trim();
    if (i.phone_required || !phone.is_empty()) && !valid_phone(phone) {
        problems.push(("phone", "service.error.phone"));
    }
    let attributes = match &category {
        Some(c) => check_attributes(&app.store.service_attributes(&c.code).await?, &i.attributes, &mut problems),
        None => Map::new(),
    };
    let Some(category) = category.filter(|_| problems.is_empty()) else {
        return Ok(Err(problems));
    };
    let new = NewServiceRequest {
        year: chrono::Datelike::year(&app.clock.today()),
        service_code: category.code.clone(),
        channel: i.channel.to_string(),
        description: description.to_string(),
        address: i.address.trim().to_string(),
        lat,
        lon,
        phone: phone.to_string(),
        contact_name: i.contact_name.trim().to_string(),
        attributes,
        password_hash: String::new(),
        token: hex::encode(random::<16>()),
        api_key_id: i.api_key_id,
        created_at: None,
    };
    Ok(Ok((category, new)))
}

/// Records a checked request as `actor`, with its SMS, in one transaction.
pub async fn take(
    app: &App,
    actor: &str,
    mut new: NewServiceRequest,
    photo: Option<(String, &'static str, Vec<u8>)>,
) -> Result<Taken, AppError> {
    // Derived from the request's token with the key file's key, kept only as a keyed
    // hash, filled into the SMS when it is sent (`privacy`).
    let password = super::privacy::query_password(app, &new.token)?;
    new.password_hash = super::privacy::password_hash(app, &password)?;
    let mut tx = app.store.begin(actor).await?;
    let request = app.store.create_service_request(&mut tx, &new).await?;
    if let Some((name, content_type, bytes)) = photo {
        app.store.add_attachment(&mut tx, "service_request", &request.case_no, &name, content_type, &bytes).await?;
    }
    if !request.phone.is_empty() {
        // Messages to citizens are written in the site's default language.
        let tr = Tr::default();
        let body = match super::query_link(&app.store, &request.case_no).await? {
            Some(link) => tr.f("sms.service_received_link", &[&tr.t("sms.sender"), &request.case_no, &super::privacy::PLACEHOLDER, &link]),
            None => tr.f("sms.service_received", &[&tr.t("sms.sender"), &request.case_no, &super::privacy::PLACEHOLDER]),
        };
        let m = NewMessage {
            channel: "sms".into(),
            recipient: request.phone.clone(),
            body,
            purpose: "service.received".into(),
            dedupe_key: Some(format!("service:{}:received", request.case_no)),
        };
        super::sms::queue(app, &mut tx, &m).await?;
    }
    let after = json!({"case_no": request.case_no, "service_code": request.service_code, "channel": request.channel, "state": "received"});
    tx.audit("service.create", "service_request", &request.case_no, None, Some(after)).await?;
    tx.commit().await?;
    Ok(Taken { request, password })
}

/// A citizen's photo: an image (recognised by its content) within the configured
/// size; its content type, or what is wrong with it.
pub fn check_photo(app: &App, tr: &Tr, filename: &str, bytes: &[u8]) -> Result<&'static str, String> {
    let limit = app.config.service_photo_bytes;
    if bytes.len() > limit {
        return Err(tr.f("service.error.photo_size", &[&(limit / 1024 / 1024)]));
    }
    match crate::files::kind_of(filename, bytes) {
        Ok(t) if t.starts_with("image/") => Ok(t),
        _ => Err(tr.t("service.error.photo_type").to_string()),
    }
}
